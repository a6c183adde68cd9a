"""Plain factory functions for tests: each makes one thing through the public API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import httpx

from creditflow.db.tx import Tx
from creditflow.keys.service import create_key


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


async def make_customer(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"external_id": f"ext-{uuid.uuid4().hex[:10]}", **fields}
    return _ok(await client.post("/v1/customers", json=body))


async def grant(client: httpx.AsyncClient, customer: str, amount: str, **fields: Any) -> dict[str, Any]:
    body = {"customer": customer, "amount": amount, "category": "paid", **fields}
    return _ok(await client.post("/v1/credit_grants", json=body))


async def debit(client: httpx.AsyncClient, customer: str, amount: str, **fields: Any) -> httpx.Response:
    return await client.post("/v1/debits", json={"customer": customer, "amount": amount, **fields})


async def hold(client: httpx.AsyncClient, customer: str, amount: str, **fields: Any) -> httpx.Response:
    return await client.post("/v1/holds", json={"customer": customer, "amount": amount, **fields})


async def wallet(client: httpx.AsyncClient, customer: str, currency: str | None = None) -> dict[str, Any]:
    wallets = _ok(await client.get(f"/v1/customers/{customer}/wallets"), 200)["data"]
    if currency is None:
        return wallets[0]
    return next(w for w in wallets if w["currency"] == currency)


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body of a response that must have `status`."""
    assert response.status_code == status, response.text
    return response.json()


def expect_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error object of a response that must fail with `status` and `code`."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    return error


def parse_time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text.replace("Z", "+00:00"))


def balance(w: dict[str, Any]) -> tuple[str, str, str]:
    return w["posted"], w["held"], w["available"]


async def customer_id(client: httpx.AsyncClient, **fields: Any) -> str:
    return (await make_customer(client, **fields))["id"]


async def make_api_key(client: httpx.AsyncClient, customer: str, **fields: Any) -> dict[str, Any]:
    """A customer API key; the answer carries the secret under `key`."""
    return _ok(await client.post(f"/v1/customers/{customer}/api_keys", json={"name": "prod", **fields}))


async def make_budget(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    body = {"period": "month", "action": "block", **fields}
    return _ok(await client.post("/v1/budgets", json=body))


async def usage_client(app: Any) -> httpx.AsyncClient:
    """A client holding a new operator key with the "usage" scope (what an API gateway gets)."""
    async with app.state.engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "gateway", "usage")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
        headers={"Authorization": f"Bearer {secret}"},
    )
