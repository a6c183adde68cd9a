"""Plain factory functions for tests: each makes one thing through the public API."""

from __future__ import annotations

import uuid
from typing import Any

import httpx


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
    wallets = _ok(await client.get(f"/v1/customers/{customer}/wallets"), 200)
    if currency is None:
        return wallets[0]
    return next(w for w in wallets if w["currency"] == currency)
