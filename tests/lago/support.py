"""Plain functions that set up a Lago customer, metric, plan, subscription and wallet through /api/v1."""

from __future__ import annotations

from typing import Any

import httpx


async def lago_ok(answer: Any, status: int = 200) -> dict[str, Any]:
    response = await answer
    assert response.status_code == status, response.text
    return response.json()


async def set_up(client: httpx.AsyncClient, *, granted: str = "10.0", customer: str = "acme",
                 charge: dict[str, Any] | None = None, plan_cents: int = 0) -> str:
    """A customer subscribed to plan `pro` (1 cent a token unless `charge` says otherwise) with a wallet;
    returns the wallet's lago_id."""
    await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": customer, "currency": "USD"}}))
    found = await client.get("/api/v1/billable_metrics/tokens")
    if found.status_code == 404:
        metric = (await lago_ok(client.post("/api/v1/billable_metrics", json={"billable_metric": {
            "name": "Tokens", "code": "tokens", "aggregation_type": "sum_agg", "field_name": "tokens"}})))
        metric_id = metric["billable_metric"]["lago_id"]
        charge = charge or {"charge_model": "standard", "properties": {"amount": "0.01"}}
        await lago_ok(client.post("/api/v1/plans", json={"plan": {
            "name": "Pro", "code": "pro", "interval": "monthly", "amount_cents": plan_cents, "amount_currency": "USD",
            "charges": [{"billable_metric_id": metric_id, **charge}]}}))
    wallet = await lago_ok(client.post("/api/v1/wallets", json={"wallet": {
        "external_customer_id": customer, "rate_amount": "1", "currency": "USD", "granted_credits": granted}}))
    await lago_ok(client.post("/api/v1/subscriptions", json={"subscription": {
        "external_customer_id": customer, "plan_code": "pro", "external_id": f"sub-{customer}"}}))
    return wallet["wallet"]["lago_id"]


def event(transaction_id: str, tokens: int, subscription: str = "sub-acme") -> dict[str, Any]:
    return {"transaction_id": transaction_id, "external_subscription_id": subscription, "code": "tokens",
            "timestamp": None, "properties": {"tokens": tokens}}


async def wallet_of(client: httpx.AsyncClient, wallet_id: str) -> dict[str, Any]:
    return (await lago_ok(client.get(f"/api/v1/wallets/{wallet_id}")))["wallet"]
