"""A disputed or charged-back payment: the unspent credits of its top-up are voided, the spent part becomes debt
on the wallet (collected from its other credits at once, the rest from the next grant), and the top-up is
flagged for review."""

from __future__ import annotations

from tests.factories import customer_id, debit, expect_error, grant, ok, wallet
from tests.topups.support import (
    assert_ledger_consistent,
    available,
    deliver,
    open_topup,
    outcomes,
    topup,
)


async def test_a_stripe_dispute_voids_what_is_unspent_and_records_the_rest(app, client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    for event in fakes.stripe.pay(opened["gateway_reference"]):
        await deliver(gateway_client, "stripe", event)
    assert (await debit(client, customer, "5")).status_code == 201
    paid = await topup(client, opened["id"])
    dispute = fakes.stripe.dispute(paid["payment_id"])
    assert outcomes(await deliver(gateway_client, "stripe", dispute)) == ["moved"]
    assert outcomes(await deliver(gateway_client, "stripe", dispute)) == ["duplicate"]
    disputed = await topup(client, opened["id"])
    assert (disputed["status"], disputed["disputed_debt"], disputed["needs_review"]) == ("disputed", "5.00", True)
    assert await available(client, customer, "USD") == "0.00"
    voided = ok(await client.get(f"/v1/credit_grants/{disputed['grants']['paid']}"))
    assert (voided["status"], voided["remaining"]) == ("voided", "0.00")
    assert (await wallet(client, customer, "USD"))["debt"] == "5.00"
    expect_error(await debit(client, customer, "0.01"), 402, "insufficient_funds")
    # The next grant pays the debt before anything becomes spendable.
    await grant(client, customer, "8")
    after = await wallet(client, customer, "USD")
    assert (after["debt"], after["available"]) == ("0.00", "3.00")
    await assert_ledger_consistent(app)


async def test_a_dispute_collects_what_was_spent_from_the_wallets_other_credits(app, client, gateway_client, fakes):
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    for event in fakes.stripe.pay(opened["gateway_reference"]):
        await deliver(gateway_client, "stripe", event)
    assert (await debit(client, customer, "10")).status_code == 201
    await grant(client, customer, "4", category="promotional")
    dispute = fakes.stripe.dispute((await topup(client, opened["id"]))["payment_id"])
    assert outcomes(await deliver(gateway_client, "stripe", dispute)) == ["moved"]
    disputed = await topup(client, opened["id"])
    assert disputed["disputed_debt"] == "10.00"
    assert "4.00 USD collected" in disputed["review_reason"]
    after = await wallet(client, customer, "USD")
    assert (after["available"], after["debt"]) == ("0.00", "6.00")
    await assert_ledger_consistent(app)


async def test_a_razorpay_dispute_takes_back_the_bonus_too(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="1000", currency="INR")
    for event in fakes.razorpay.capture(opened["gateway_reference"]):
        await deliver(gateway_client, "razorpay", event)
    assert (await debit(client, customer, "100")).status_code == 201
    dispute = fakes.razorpay.dispute((await topup(client, opened["id"]))["payment_id"])
    assert outcomes(await deliver(gateway_client, "razorpay", dispute)) == ["moved"]
    disputed = await topup(client, opened["id"])
    assert (disputed["status"], disputed["disputed_debt"]) == ("disputed", "100.00")
    assert await available(client, customer, "INR") == "0.00"


async def test_a_midtrans_chargeback_is_confirmed_then_applied(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="IDR")
    opened = await open_topup(client, customer, "midtrans", amount="100000", currency="IDR")
    fakes.midtrans.capture_card(opened["id"])
    await deliver(gateway_client, "midtrans", fakes.midtrans.settle(opened["id"]))
    assert outcomes(await deliver(gateway_client, "midtrans", fakes.midtrans.chargeback(opened["id"]))) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "disputed"
    assert await available(client, customer, "IDR") == "0.00"


async def test_a_dispute_before_the_payment_was_credited_is_only_flagged(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    fakes.stripe.pay(opened["gateway_reference"])
    intent_id = fakes.stripe.sessions[opened["gateway_reference"]]["payment_intent"]
    assert outcomes(await deliver(gateway_client, "stripe", fakes.stripe.dispute(intent_id))) == ["flagged"]
    flagged = await topup(client, opened["id"])
    assert (flagged["status"], flagged["needs_review"]) == ("pending", True)
    assert await available(client, customer, "USD") == "0.00"
