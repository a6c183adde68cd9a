"""Helpers for the HTTP-layer tests: a snapshot of everything the ledger shows through the API."""

from __future__ import annotations

from typing import Any

import httpx


async def _data(client: httpx.AsyncClient, path: str) -> list[dict[str, Any]]:
    response = await client.get(path, params={"limit": 100})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["has_more"] is False
    return body["data"]


async def transactions(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return await _data(client, "/v1/transactions")


async def ledger_state(client: httpx.AsyncClient) -> dict[str, Any]:
    """Every customer with its wallets (balances and lots), every grant, hold and transaction."""
    customers = await _data(client, "/v1/customers")
    wallets = {}
    for customer in customers:
        response = await client.get(f"/v1/customers/{customer['id']}/wallets")
        assert response.status_code == 200, response.text
        wallets[customer["id"]] = response.json()["data"]
    return {
        "customers": customers,
        "wallets": wallets,
        "grants": await _data(client, "/v1/credit_grants"),
        "holds": await _data(client, "/v1/holds"),
        "transactions": await transactions(client),
    }
