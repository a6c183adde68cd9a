"""A plan's usage prices: they apply to its subscribers, after a customer's own price and before the default;
only while the subscription is in good standing (trialing, active, past due), and in usage reports for the
window the subscription covered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import customer_id, expect_error, grant, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, make_price, send
from tests.subscriptions.support import make_plan, subscribe, subscription

FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
PLAN_CALLS = {"metric": "calls", "currency": "USD", "model": "standard", "properties": {"amount": "0.10"}}


async def _priced(client) -> dict:
    """A `calls` metric at 1.00 by default, and a `pro` plan (10.00 a month) whose subscribers pay 0.10."""
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    return await make_plan(client, "pro", "10.00", currency="USD", prices=[PLAN_CALLS])


async def _customer(client, balance: str = "100.00") -> str:
    customer = await customer_id(client, currency="USD")
    await grant(client, customer, balance)
    return customer


async def test_subscribers_pay_the_plans_price_and_others_the_default(client, app) -> None:
    plan = await _priced(client)
    subscriber, other = await _customer(client), await _customer(client)
    ok(await subscribe(client, subscriber, "pro"), 201)

    assert ok(await send(client, subscriber, "calls", "s1"), 201)["cost"] == "0.10"
    assert ok(await send(client, other, "calls", "o1"), 201)["cost"] == "1.00"
    assert (await wallet(client, subscriber))["available"] == "89.90"  # 100 - 10 (the plan) - 0.10
    assert (await wallet(client, other))["available"] == "99.00"

    (price_id,) = plan["prices"]
    listed = ok(await client.get("/v1/prices", params={"plan": "pro"}))["data"]
    assert [(p["id"], p["plan"], p["customer"], p["properties"]) for p in listed] == [
        (price_id, plan["id"], None, {"amount": "0.10"})
    ]
    assert ok(await client.get("/v1/plans/pro"))["prices"] == [price_id]
    assert ok(await client.get("/v1/plans"))["data"][0]["prices"] == [price_id]
    assert await ledger_problems(app) == []


async def test_a_customers_own_price_comes_before_its_plans(client) -> None:
    await _priced(client)
    customer = await _customer(client)
    ok(await subscribe(client, customer, "pro"), 201)
    await make_price(client, "calls", properties={"amount": "0.05"}, customer=customer)

    assert ok(await send(client, customer, "calls", "c1"), 201)["cost"] == "0.05"


async def test_a_plan_price_added_later_with_filters_is_the_most_specific_of_the_plans(client) -> None:
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", properties={"amount": "0.01"})
    await make_plan(client, "team", "5.00", currency="USD")
    ok(await client.post("/v1/prices", json={
        "metric": "tokens", "currency": "USD", "model": "standard", "properties": {"amount": "0.002"},
        "filters": {"model": ["gpt-4o"]}, "plan": "team",
    }), 201)
    customer = await _customer(client)
    ok(await subscribe(client, customer, "team"), 201)

    gpt = ok(await send(client, customer, "tokens", "t1", properties={"tokens": 100, "model": "gpt-4o"}), 201)
    mini = ok(await send(client, customer, "tokens", "t2", properties={"tokens": 100, "model": "mini"}), 201)
    assert (gpt["cost"], mini["cost"]) == ("0.20", "1.00")  # the plan prices gpt-4o only; mini takes the default
    estimate = ok(await client.post("/v1/events/estimate", json={
        "customer": customer, "metric": "tokens", "transaction_id": "t3",
        "properties": {"tokens": 10, "model": "gpt-4o"},
    }))
    assert estimate["cost"] == "0.02"


async def test_after_a_cancel_the_default_price_applies_again(client) -> None:
    await _priced(client)
    customer = await _customer(client)
    created = ok(await subscribe(client, customer, "pro"), 201)
    assert ok(await send(client, customer, "calls", "before"), 201)["cost"] == "0.10"

    ok(await client.post(f"/v1/subscriptions/{created['id']}/cancel", json={"at_period_end": False}))

    assert ok(await send(client, customer, "calls", "after"), 201)["cost"] == "1.00"


async def test_a_suspended_subscriber_pays_the_default_until_it_is_paid_again(app, client, clock) -> None:
    await _priced(client)
    customer = await _customer(client, "15.00")
    created = ok(await subscribe(client, customer, "pro"), 201)
    clock.set(FEB_1)
    await app.state.jobs.run_once()  # 5.00 left: the renewal is short
    assert (await subscription(client, created["id"]))["status"] == "past_due"
    assert ok(await send(client, customer, "calls", "grace"), 201)["cost"] == "0.10"

    clock.set(FEB_1 + timedelta(days=3))
    await app.state.jobs.run_once()
    assert (await subscription(client, created["id"]))["status"] == "suspended"
    assert ok(await send(client, customer, "calls", "suspended"), 201)["cost"] == "1.00"


async def test_a_plan_price_prices_deferred_usage_in_the_report_after_the_subscription_ended(client, clock) -> None:
    clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC))
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", properties={"amount": "3.00"})
    await make_plan(client, "seats-plan", "1.00", currency="USD", prices=[
        {"metric": "seats", "currency": "USD", "model": "standard", "properties": {"amount": "2.00"}}
    ])
    customer = await _customer(client)
    created = ok(await subscribe(client, customer, "seats-plan"), 201)
    ok(await send(client, customer, "seats", "s1", properties={"seats": 4}), 201)
    clock.set(datetime(2026, 3, 20, tzinfo=UTC))
    ok(await client.post(f"/v1/subscriptions/{created['id']}/cancel", json={"at_period_end": False}))

    march = {"group_by": "metric", "from": "2026-03-01T00:00:00Z", "to": "2026-03-20T00:00:00Z"}
    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params=march))["data"]
    assert [(b["metric"], b["units"], b["cost"]) for b in usage] == [("seats", "4", "8.00")]
    clock.set(datetime(2026, 3, 20, 12, tzinfo=UTC))
    after = {"group_by": "metric", "from": "2026-03-20T06:00:00Z", "to": "2026-03-21T00:00:00Z"}
    ok(await send(client, customer, "seats", "s2", properties={"seats": 5}), 201)
    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params=after))["data"]
    # The month's max went from 4 to 5: the one seat more is priced at the default, the plan having ended.
    assert [(b["metric"], b["units"], b["cost"]) for b in usage] == [("seats", "5", "3.00")]


async def test_bad_plan_prices_are_refused_and_change_nothing(client) -> None:
    await _priced(client)
    customer = await _customer(client)
    both = {**PLAN_CALLS, "customer": customer, "plan": "pro"}
    assert expect_error(await client.post("/v1/prices", json=both), 422, "invalid_request")["param"] == "plan"
    unknown = await client.post("/v1/prices", json={**PLAN_CALLS, "plan": "nope"})
    assert expect_error(unknown, 404, "not_found")["param"] == "plan"

    body = {"code": "broken", "name": "Broken", "interval": "month", "price": {"amount": "1.00", "currency": "USD"},
            "prices": [PLAN_CALLS, {**PLAN_CALLS, "metric": "nope"}]}
    assert expect_error(await client.post("/v1/plans", json=body), 404, "not_found")["param"] == "metric"
    expect_error(await client.get("/v1/plans/broken"), 404, "not_found")
    listed = ok(await client.get("/v1/prices"))["data"]
    assert len(listed) == 2  # the default and pro's; nothing of the refused plan
    assert expect_error(await client.get("/v1/prices", params={"plan": "nope"}), 404, "not_found")["param"] == "plan"


async def test_a_plan_price_in_the_plans_interval_counts_usage_over_billing_periods(client, clock) -> None:
    clock.set(datetime(2026, 3, 15, 12, tzinfo=UTC))
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"}, free_units_per_period="2")
    # A month, the plan's interval: the subscription's billing periods.
    await make_plan(client, "mid-month", "1.00", currency="USD", prices=[{**PLAN_CALLS, "free_units_per_period": "2"}])
    customer = await _customer(client)
    ok(await subscribe(client, customer, "mid-month"), 201)

    costs = []
    for day, transaction_id in ((20, "a"), (25, "b"), (31, "c")):
        clock.set(datetime(2026, 3, day, 12, tzinfo=UTC))
        costs.append(ok(await send(client, customer, "calls", transaction_id), 201)["cost"])
    clock.set(datetime(2026, 4, 10, 12, tzinfo=UTC))
    costs.append(ok(await send(client, customer, "calls", "d"), 201)["cost"])  # April, same billing period
    clock.set(datetime(2026, 4, 15, 12, tzinfo=UTC))
    costs.append(ok(await send(client, customer, "calls", "e"), 201)["cost"])  # a new billing period: free again
    assert costs == ["0.00", "0.00", "0.10", "0.10", "0.00"]

    # A customer without the plan counts calendar months: April 10 is free again for them.
    other = await _customer(client)
    clock.set(datetime(2026, 3, 31, 12, tzinfo=UTC))
    for transaction_id in ("x", "y", "z"):
        ok(await send(client, other, "calls", transaction_id), 201)
    clock.set(datetime(2026, 4, 10, 12, tzinfo=UTC))
    assert ok(await send(client, other, "calls", "w"), 201)["cost"] == "0.00"
