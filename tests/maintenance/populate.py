"""A database that has been through many features, built through the public API in-process."""

from __future__ import annotations

from datetime import timedelta

import httpx

from creditflow.clock import ManualClock
from tests.factories import debit, grant, hold, make_api_key, make_budget, make_customer, ok


async def exercise_features(client: httpx.AsyncClient, app: object, clock: ManualClock) -> None:
    """Customers, grants (one expiring), debits, holds captured and voided, usage events with a price,
    API keys, a budget, a webhook endpoint with failed deliveries, and a job pass that sweeps an expiry."""
    ok(await client.post("/v1/webhook_endpoints", json={"url": "http://127.0.0.1:9/h", "events": ["customer.created"]}),
       201)
    ok(await client.post("/v1/metrics", json={"code": "calls", "name": "API calls", "aggregation": "count"}), 201)
    ok(await client.post("/v1/prices", json={"metric": "calls", "currency": "USD", "model": "standard",
                                             "properties": {"amount": "0.25"}}), 201)
    for n in range(3):
        customer = (await make_customer(client, email=f"c{n}@example.com"))["id"]
        await grant(client, customer, "50.00")
        await grant(client, customer, "5.00", category="promotional", expires_at=_later(clock, 60))
        assert (await debit(client, customer, "1.25")).status_code == 201
        captured = ok(await hold(client, customer, "3.00"), 201)
        ok(await client.post(f"/v1/holds/{captured['id']}/capture", json={"amount": "2.00"}))
        voided = ok(await hold(client, customer, "1.00"), 201)
        ok(await client.post(f"/v1/holds/{voided['id']}/void", json={}))
        ok(await client.post("/v1/events", json={"customer": customer, "metric": "calls", "transaction_id": "t1"}),
           201)
        await make_api_key(client, customer)
        await make_budget(client, customer=customer, amount="100.00")
    clock.advance(seconds=120)
    await app.state.jobs.run_once()  # type: ignore[attr-defined]


def _later(clock: ManualClock, seconds: int) -> str:
    return (clock.now() + timedelta(seconds=seconds)).isoformat()
