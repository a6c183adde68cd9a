"""Coupons on POST /v1/subscriptions: money off the plan's charges for the coupon's duration, each invoice
showing its discount line; a charge the balance refuses does not use up a discounted period."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.coupons.test_endpoints import make_coupon
from tests.factories import customer_id, expect_error, grant, ok
from tests.subscriptions.support import available, invoices_of, make_plan, subscribe


async def test_a_repeating_coupon_discounts_that_many_charged_periods(app, client, clock) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "100000")
    await make_plan(client, "n8n", "25000")
    await make_coupon(client, "TWO", value="20", applies_to="subscriptions", duration="repeating", duration_periods=2)
    ok(await subscribe(client, customer, "n8n", coupon="two"), 201)
    assert await available(client, customer) == "80000.00"
    for month in (2, 3):
        clock.set(datetime(2026, month, 1, tzinfo=UTC))
        await app.state.jobs.run_once()
    assert await available(client, customer) == "35000.00"  # 20,000 + 20,000 + 25,000
    invoices = await invoices_of(client, customer)
    assert sorted(i["total"] for i in invoices) == ["20000.00", "20000.00", "25000.00"]
    discounted = next(i for i in invoices if i["total"] == "20000.00")
    assert [(line["description"], line["amount"]) for line in discounted["lines"]][1] == ("Coupon TWO", "-5000.00")
    (redemption,) = ok(await client.get("/v1/coupons/TWO/redemptions"))["data"]
    assert (redemption["status"], redemption["periods_left"]) == ("redeemed", 0)


async def test_a_coupon_for_top_ups_or_of_bonus_credits_does_not_take_a_subscription(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "100000")
    await make_plan(client, "n8n", "25000")
    await make_coupon(client, "TOPS")
    expect_error(await subscribe(client, customer, "n8n", coupon="TOPS"), 422, "coupon_not_applicable")
    expect_error(await client.post("/v1/coupons", json={"code": "B", "kind": "bonus_credits", "value": "5",
                                                        "currency": "IDR", "applies_to": "both"}),
                 422, "invalid_request")
    expect_error(await client.post("/v1/coupons", json={"code": "R", "kind": "percent_off", "value": "5",
                                                        "duration": "repeating"}), 422, "invalid_request")
    assert ok(await client.get("/v1/subscriptions", params={"customer": customer}))["data"] == []
