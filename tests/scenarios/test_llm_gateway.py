"""Scenario: an LLM gateway in front of a model API, billing per token from a prepaid USD balance.

The customer has a monthly budget of 50.00 USD on its API key. Before each call the gateway authorizes
an estimate; after it, it captures the real cost (fractions of a cent), retrying the settlement with the
same idempotency key when the network fails. The budget blocks once spent; the next calendar month
(moved with the injected clock) allows spending again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import balance, customer_id, grant, make_api_key, make_budget, ok, usage_client, wallet

# Per call: 1,250 input tokens at $2.50/M and 310 output tokens at $10.00/M = $0.003125 + $0.0031 = $0.006225.
CALL_COST = "0.006225"
ESTIMATE = "0.05"


async def _call(gateway, key: str, settlement: str, cost: str = CALL_COST) -> dict:
    """One model call through the gateway: authorize the estimate, then capture the real cost, twice with the
    same idempotency key (the first answer was lost on the way back)."""
    authorized = ok(await gateway.post("/v1/authorize", json={"api_key": key, "amount": ESTIMATE}))
    if not authorized["allowed"]:
        return authorized
    headers = {"Idempotency-Key": settlement}
    url = f"/v1/holds/{authorized['hold_id']}/capture"
    first = ok(await gateway.post(url, json={"amount": cost}, headers=headers))
    retried = ok(await gateway.post(url, json={"amount": cost}, headers=headers))
    assert retried == first
    return authorized


async def test_llm_gateway_month_with_budget_fractional_costs_and_retried_settlements(app, client, clock):
    clock.set(datetime(2026, 1, 31, 23, 0, tzinfo=UTC))
    customer = await customer_id(client)
    await grant(client, customer, "100.00")
    key = await make_api_key(client, customer, name="llm-gateway")
    budget = await make_budget(client, api_key=key["id"], amount="50.00", period="month", thresholds=[80, 100])

    async with await usage_client(app) as gateway:
        for n in range(10):
            assert (await _call(gateway, key["key"], f"settle-{n}"))["allowed"] is True
        # 10 calls at $0.006225 each: $0.06225 spent, exactly, and no hold left behind.
        assert balance(await wallet(client, customer)) == ("99.93775", "0.00", "99.93775")
        period = ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]
        assert (period["spent"], period["reserved"]) == ("0.06225", "0.00")

        # A long generation costing $49.90 takes the month's spend to $49.96225: one more call's estimate
        # ($0.05) no longer fits in the $0.03775 left, so the gateway is told no, and nothing is held.
        assert (await _call(gateway, key["key"], "settle-big", cost="49.90"))["allowed"] is True
        refused = ok(await gateway.post("/v1/authorize", json={"api_key": key["key"], "amount": ESTIMATE}))
        assert (refused["allowed"], refused["reason"]) == (False, "budget_exceeded")
        assert refused["budget"] == {
            "id": budget["id"], "currency": "USD", "total": "50.00", "used": "49.96225", "remaining": "0.03775",
        }
        assert balance(await wallet(client, customer)) == ("50.03775", "0.00", "50.03775")
        alerts = ok(await client.get("/v1/alerts", params={"budget": budget["id"]}))["data"]
        assert [(a["kind"], a["threshold"]) for a in alerts] == [("budget.threshold_reached", 80)]

        # February 1st, 00:00 UTC: a new budget period, without any reset job.
        clock.set(datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC))
        assert (await _call(gateway, key["key"], "settle-feb"))["allowed"] is True

    period = ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]
    assert (period["start"], period["spent"], period["remaining"]) == ("2026-02-01T00:00:00Z", "0.006225", "49.993775")
    assert balance(await wallet(client, customer)) == ("50.031525", "0.00", "50.031525")
    captures = ok(await client.get("/v1/holds", params={"customer": customer, "status": "captured", "limit": 100}))
    assert len(captures["data"]) == 12
