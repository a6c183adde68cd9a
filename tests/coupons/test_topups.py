"""Coupons on POST /v1/topups: money off before tax with the credits whole, bonus credits, the reservation a
checkout holds until paid (or until the gateway ends it), and a late payment honoured past the limit."""

from __future__ import annotations

from datetime import timedelta

from tests.coupons.test_endpoints import make_coupon
from tests.factories import customer_id, expect_error, ok
from tests.topups.support import (
    assert_ledger_consistent,
    available,
    deliver,
    open_topup,
    sandbox_notification,
    topup_grants,
)


async def _pay(app, client, opened: dict, outcome: str = "paid") -> None:
    assert (await deliver(client, "sandbox", sandbox_notification(app, opened, outcome))).status_code == 200


async def test_a_percent_off_coupon_cuts_the_money_before_tax_and_keeps_the_credits(app, client) -> None:
    customer = await customer_id(client, currency="INR")
    await make_coupon(client)
    opened = await open_topup(client, customer, "sandbox", amount="1000", currency="INR", coupon="save10")
    assert (opened["subtotal"], opened["tax"], opened["total"], opened["credits"], opened["bonus_credits"]) == (
        "900.00", "162.00", "1062.00", "1000.00", "150.00"
    )
    (reserved,) = ok(await client.get("/v1/coupons/SAVE10/redemptions"))["data"]
    assert (reserved["status"], reserved["topup"], reserved["discount"]) == ("reserved", opened["id"], "100.00")

    await _pay(app, client, opened)
    assert await available(client, customer, "INR") == "1150.00"
    assert await topup_grants(client, customer) == [("paid", "1000.00", "900.00"), ("promotional", "150.00", None)]
    paid = ok(await client.get(f"/v1/topups/{opened['id']}"))
    invoice = ok(await client.get(f"/v1/invoices/{paid['invoice']}"))
    assert [line["amount"] for line in invoice["lines"]] == ["1000.00", "-100.00"]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("900.00", "162.00", "1062.00")
    (redeemed,) = ok(await client.get("/v1/coupons/SAVE10/redemptions"))["data"]
    assert (redeemed["status"], redeemed["over_limit"]) == ("redeemed", False)
    await assert_ledger_consistent(app)


async def test_a_bonus_credits_coupon_grants_promotional_credits_with_its_expiry(app, client, clock) -> None:
    customer = await customer_id(client, currency="INR")
    await make_coupon(client, "WELCOME", kind="bonus_credits", value="50", currency="INR", bonus_expires_in_days=30)
    opened = await open_topup(client, customer, "sandbox", amount="100", currency="INR", coupon="WELCOME")
    assert (opened["total"], opened["credits"]) == ("118.00", "100.00")
    await _pay(app, client, opened)
    grants = ok(await client.get("/v1/credit_grants", params={"customer": customer}))["data"]
    bonus = next(g for g in grants if g["source"] == "coupon")
    assert (bonus["category"], bonus["amount"]) == ("promotional", "50.00")
    assert bonus["expires_at"] == (clock.now() + timedelta(days=30)).isoformat().replace("+00:00", "Z")
    assert await available(client, customer, "INR") == "150.00"


async def test_the_last_redemption_is_held_by_its_checkout_until_the_gateway_ends_it(app, client) -> None:
    first, second = await customer_id(client, currency="INR"), await customer_id(client, currency="INR")
    await make_coupon(client, "ONCE", max_redemptions=1)
    held = await open_topup(client, first, "sandbox", amount="1000", currency="INR", coupon="ONCE")
    refused = await client.post("/v1/topups", json={"customer": second, "gateway": "sandbox", "amount": "1000",
                                                    "currency": "INR", "coupon": "ONCE"})
    expect_error(refused, 422, "coupon_exhausted")

    await _pay(app, client, held, "failed")
    assert ok(await client.get("/v1/coupons/ONCE"))["times_redeemed"] == 0
    taken = await open_topup(client, second, "sandbox", amount="1000", currency="INR", coupon="ONCE")
    await _pay(app, client, taken)

    # The failed checkout is paid after all: its coupon is honoured past the limit, and flagged.
    await _pay(app, client, held)
    assert await available(client, first, "INR") == "1150.00"
    redemptions = ok(await client.get("/v1/coupons/ONCE/redemptions"))["data"]
    assert sorted((r["status"], r["over_limit"]) for r in redemptions) == [("redeemed", False), ("redeemed", True)]
    assert ok(await client.get("/v1/coupons/ONCE"))["times_redeemed"] == 2
    await assert_ledger_consistent(app)


async def test_a_customer_redeems_a_coupon_only_as_often_as_its_limit(client) -> None:
    customer = await customer_id(client, currency="INR")
    await make_coupon(client)
    await open_topup(client, customer, "sandbox", amount="1000", currency="INR", coupon="SAVE10")
    again = await client.post("/v1/topups", json={"customer": customer, "gateway": "sandbox", "amount": "1000",
                                                  "currency": "INR", "coupon": "SAVE10"})
    expect_error(again, 422, "coupon_exhausted")
    assert ok(await client.get("/v1/topups", params={"customer": customer}))["data"].__len__() == 1


async def test_a_refund_of_a_discounted_top_up_returns_the_net_paid_pro_rata(app, client) -> None:
    customer = await customer_id(client, currency="INR")
    await make_coupon(client)
    opened = await open_topup(client, customer, "sandbox", amount="1000", currency="INR", coupon="SAVE10")
    await _pay(app, client, opened)
    assert (await client.post("/v1/debits", json={"customer": customer, "amount": "500"})).status_code == 201
    # 500 of the 1,000 paid credits left: half of the 1,062.00 actually paid, not of the 1,180.00 undiscounted.
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund"), 201)
    assert (refund["amount"], refund["credits"], refund["bonus_credits"]) == ("531.00", "500.00", "75.00")
    await assert_ledger_consistent(app)
