"""Helpers for subscription tests: plans, subscriptions, balances and the renewal job."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import ok, wallet


async def make_plan(client: httpx.AsyncClient, code: str, amount: str, currency: str = "IDR", **fields: Any):
    body = {"code": code, "name": fields.pop("name", code.title()), "interval": fields.pop("interval", "month"),
            "price": {"amount": amount, "currency": currency}, **fields}
    return ok(await client.post("/v1/plans", json=body), 201)


async def subscribe(client: httpx.AsyncClient, customer: str, plan: str, **fields: Any) -> httpx.Response:
    return await client.post("/v1/subscriptions", json={"customer": customer, "plan": plan, **fields})


async def subscription(client: httpx.AsyncClient, subscription_id: str) -> dict[str, Any]:
    return ok(await client.get(f"/v1/subscriptions/{subscription_id}"))


async def available(client: httpx.AsyncClient, customer: str, currency: str = "IDR") -> str:
    return (await wallet(client, customer, currency))["available"]


async def invoices_of(client: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
    """The customer's invoices, oldest first."""
    return list(reversed(ok(await client.get("/v1/invoices", params={"customer": customer}))["data"]))
