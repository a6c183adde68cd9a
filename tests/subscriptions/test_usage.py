"""GET /v1/subscriptions/{id}/usage: the current billing period's usage so far, priced as the plan prices it."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import customer_id, expect_error, grant, ok
from tests.metering._helpers import make_metric, make_price, send
from tests.subscriptions.support import make_plan, subscribe

PLAN_CALLS = {"metric": "calls", "currency": "USD", "model": "standard", "properties": {"amount": "0.10"}}


async def test_usage_covers_the_billing_period_at_the_plans_prices(client, clock) -> None:
    clock.set(datetime(2026, 3, 10, 12, tzinfo=UTC))
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    await make_plan(client, "pro", "10.00", currency="USD", prices=[PLAN_CALLS])
    customer = await customer_id(client, currency="USD")
    await grant(client, customer, "100")
    ok(await send(client, customer, "calls", "before"), 201)  # at the default price, before the subscription

    clock.set(datetime(2026, 3, 15, 12, tzinfo=UTC))
    subscription = ok(await subscribe(client, customer, "pro"), 201)
    for day, transaction_id in ((20, "a"), (25, "b"), (31, "c")):
        clock.set(datetime(2026, 3, day, 12, tzinfo=UTC))
        ok(await send(client, customer, "calls", transaction_id), 201)
    clock.set(datetime(2026, 4, 2, tzinfo=UTC))

    usage = ok(await client.get(f"/v1/subscriptions/{subscription['id']}/usage"))
    assert (usage["object"], usage["plan"], usage["customer"]) == ("subscription_usage", "pro", customer)
    assert (usage["period_start"], usage["period_end"], usage["to"]) == (
        "2026-03-15T12:00:00Z", "2026-04-15T12:00:00Z", "2026-04-02T00:00:00Z"
    )
    assert [(r["metric"], r["currency"], r["units"], r["events"], r["cost"]) for r in usage["data"]] == [
        ("calls", "USD", "3", 3, "0.30")
    ]
    assert usage["totals"] == [{"currency": "USD", "cost": "0.30"}]


async def test_an_unknown_subscription_is_404(client) -> None:
    expect_error(await client.get("/v1/subscriptions/sub_nope/usage"), 404, "not_found")
