"""Small helpers shared by the metering tests: metrics, prices and events through the public API."""

from __future__ import annotations

from typing import Any

import httpx

from creditflow.db.tx import Tx
from creditflow.ledger.check import find_discrepancies
from tests.factories import grant, make_customer, ok


async def make_metric(client: httpx.AsyncClient, code: str, aggregation: str = "count", **fields: Any) -> dict:
    body = {"code": code, "name": code.title(), "aggregation": aggregation, **fields}
    return ok(await client.post("/v1/metrics", json=body), 201)


async def make_price(
    client: httpx.AsyncClient, metric: str, model: str = "standard", properties: dict | None = None, **fields: Any
) -> dict:
    body = {"metric": metric, "currency": "USD", "model": model, "properties": properties or {"amount": "1.00"},
            **fields}
    return ok(await client.post("/v1/prices", json=body), 201)


async def send(client: httpx.AsyncClient, customer: str, metric: str, transaction_id: str, **fields: Any):
    body = {"customer": customer, "metric": metric, "transaction_id": transaction_id, **fields}
    return await client.post("/v1/events", json=body)


async def funded(client: httpx.AsyncClient, amount: str = "100.00", **fields: Any) -> str:
    customer = (await make_customer(client, **fields))["id"]
    await grant(client, customer, amount)
    return customer


async def events_of(client: httpx.AsyncClient, customer: str, **params: str) -> list[dict]:
    return ok(await client.get("/v1/events", params={"customer": customer, "limit": 100, **params}))["data"]


async def ledger_problems(app) -> list[str]:
    async with app.state.engine.begin() as conn:
        return await find_discrepancies(Tx(conn=conn, now=app.state.clock.now(), actor="test"))
