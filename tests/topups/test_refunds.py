"""POST /v1/topups/{id}/refund: only the unspent part of the top-up's paid grant, credits held before the
gateway is asked, then taken back (refunded, or refund_manual) or released (refused)."""

from __future__ import annotations

import asyncio

from tests.factories import customer_id, debit, expect_error, ok, wallet
from tests.topups.support import assert_ledger_consistent, available, deliver, open_topup, outcomes, topup


async def paid_topup(client, gateway_client, fakes, gateway: str, **fields) -> tuple[str, dict]:
    currency = fields.get("currency", "USD")
    customer = await customer_id(client, currency=currency)
    opened = await open_topup(client, customer, gateway, **fields)
    if gateway == "stripe":
        notifications = fakes.stripe.pay(opened["gateway_reference"])
    elif gateway == "razorpay":
        notifications = fakes.razorpay.capture(opened["gateway_reference"])
    else:
        notifications = [fakes.midtrans.settle(opened["id"])]
    for notification in notifications:
        await deliver(gateway_client, gateway, notification)
    assert (await topup(client, opened["id"]))["status"] == "paid"
    return customer, opened


async def test_an_unspent_top_up_is_refunded_in_full(client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund"), 201)
    assert {k: refund[k] for k in ("amount", "currency", "credits", "bonus_credits", "status", "topup_status")} == {
        "amount": "12.50", "currency": "USD", "credits": "12.50", "bonus_credits": "0.00", "status": "refunded",
        "topup_status": "refunded",
    }
    assert refund["gateway_refund_id"].startswith("re_")
    assert await available(client, customer, "USD") == "0.00"
    refunded = await topup(client, opened["id"])
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", "12.50")
    intent = fakes.stripe.intents[refunded["payment_id"]]
    assert fakes.stripe.charges[intent["latest_charge"]]["amount_refunded"] == 1250
    # Stripe's own report of the refund is the one creditflow made: nothing to flag.
    charge_refunded = fakes.stripe.outbox[-1]
    assert outcomes(await deliver(gateway_client, "stripe", charge_refunded)) == ["unchanged"]
    assert (await topup(client, opened["id"]))["needs_review"] is False
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund"), 409, "topup_not_refundable")


async def test_only_the_unspent_part_is_refundable(app, client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "razorpay", amount="1000", currency="INR")
    assert (await debit(client, customer, "400")).status_code == 201
    # 600 of the 1,000 paid credits are left; they cost 1,180 INR per 1,000 with GST: 708.00 INR.
    error = expect_error(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "800"}), 409,
                         "refund_exceeds_refundable")
    assert error["details"] == {"refundable": "708.00", "currency": "INR"}
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "708"}), 201)
    # The 600 paid credits and the same share (708/1180) of the 150 bonus go back: 90.
    assert (refund["credits"], refund["bonus_credits"], refund["topup_status"]) == ("600.00", "90.00",
                                                                                    "partially_refunded")
    assert await available(client, customer, "INR") == "60.00"
    assert (await topup(client, opened["id"]))["amount_refunded"] == "708.00"
    payment = fakes.razorpay.payments[(await topup(client, opened["id"]))["payment_id"]]
    assert payment["amount_refunded"] == 70800
    assert outcomes(await deliver(gateway_client, "razorpay", fakes.razorpay.outbox[-1])) == ["unchanged"]
    error = expect_error(await client.post(f"/v1/topups/{opened['id']}/refund"), 409, "refund_exceeds_refundable")
    assert error["details"]["refundable"] == "0.00"
    await assert_ledger_consistent(app)


async def test_midtrans_bank_transfers_are_refunded_by_hand(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="IDR")
    opened = await open_topup(client, customer, "midtrans", amount="100000", currency="IDR")
    fakes.midtrans.choose(opened["id"], "bank_transfer")
    await deliver(gateway_client, "midtrans", fakes.midtrans.settle(opened["id"]))
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "55500"}), 201)
    assert (refund["status"], refund["topup_status"], refund["credits"]) == ("manual", "refund_manual", "50000.00")
    assert await available(client, customer, "IDR") == "50000.00"
    assert (await topup(client, opened["id"]))["status"] == "refund_manual"


async def test_midtrans_e_wallet_payments_are_refunded_through_its_api(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="IDR")
    opened = await open_topup(client, customer, "midtrans", amount="100000", currency="IDR")
    fakes.midtrans.choose(opened["id"], "gopay")
    await deliver(gateway_client, "midtrans", fakes.midtrans.settle(opened["id"]))
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund"), 201)
    assert (refund["status"], refund["amount"], refund["topup_status"]) == ("refunded", "111000.00", "refunded")
    assert fakes.midtrans.transactions[opened["id"]]["transaction_status"] == "refund"
    assert outcomes(await deliver(gateway_client, "midtrans", fakes.midtrans.outbox[-1])) == ["unchanged"]
    assert await available(client, customer, "IDR") == "0.00"


async def test_a_refused_refund_releases_the_credits(client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    fakes.stripe.fail_next(400, {"error": {"type": "invalid_request_error", "message": "charge_disputed"}})
    error = expect_error(await client.post(f"/v1/topups/{opened['id']}/refund"), 502, "gateway_refused")
    assert error["details"]["topup"] == opened["id"] and error["details"]["refund"].startswith("rfd_")
    after = await wallet(client, customer, "USD")
    assert (after["available"], after["held"]) == ("12.50", "0.00")
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert ok(await client.post(f"/v1/topups/{opened['id']}/refund"), 201)["status"] == "refunded"


async def test_an_unreachable_gateway_keeps_the_credits_held_until_the_refund_is_retried(
    client, gateway_client, fakes
) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    fakes.stripe.fail_next(503, {"error": {"type": "api_error", "message": "down"}})
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "5"}), 503,
                 "gateway_unavailable")
    held = await wallet(client, customer, "USD")
    assert (held["available"], held["held"]) == ("7.50", "5.00")
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "6"}), 409,
                 "refund_in_progress")
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "5"}), 201)
    assert (refund["status"], refund["topup_status"]) == ("refunded", "partially_refunded")
    after = await wallet(client, customer, "USD")
    assert (after["available"], after["held"], after["posted"]) == ("7.50", "0.00", "7.50")
    intent = fakes.stripe.intents[(await topup(client, opened["id"]))["payment_id"]]
    assert fakes.stripe.charges[intent["latest_charge"]]["amount_refunded"] == 500


async def test_a_refund_made_outside_creditflow_takes_its_credits_back(app, client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    intent = fakes.stripe.intents[(await topup(client, opened["id"]))["payment_id"]]
    charge = fakes.stripe.charges[intent["latest_charge"]]
    charge.update(amount_refunded=500)  # refunded in the Stripe dashboard
    refunded = fakes.stripe.event("charge.refunded", charge)
    assert outcomes(await deliver(gateway_client, "stripe", refunded)) == ["moved"]
    assert outcomes(await deliver(gateway_client, "stripe", refunded)) == ["duplicate"]
    flagged = await topup(client, opened["id"])
    assert (flagged["status"], flagged["amount_refunded"], flagged["needs_review"]) == (
        "partially_refunded", "5.00", True
    )
    assert "5.00 USD refunded at stripe, not through creditflow: 5.00 USD taken back" in flagged["review_reason"]
    assert await available(client, customer, "USD") == "7.50"
    # What is left is still refundable through creditflow, and no more.
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "8"}), 409,
                 "refund_exceeds_refundable")
    await assert_ledger_consistent(app)


async def test_a_dashboard_refund_of_spent_credits_leaves_debt(app, client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    assert (await debit(client, customer, "10")).status_code == 201
    intent = fakes.stripe.intents[(await topup(client, opened["id"]))["payment_id"]]
    charge = fakes.stripe.charges[intent["latest_charge"]]
    charge.update(amount_refunded=1250, refunded=True)
    assert outcomes(await deliver(gateway_client, "stripe", fakes.stripe.event("charge.refunded", charge))) == [
        "moved"
    ]
    refunded = await topup(client, opened["id"])
    assert (refunded["status"], refunded["amount_refunded"]) == ("refunded", "12.50")
    assert "10.00 USD already spent became debt" in refunded["review_reason"]
    after = await wallet(client, customer, "USD")
    assert (after["available"], after["debt"]) == ("0.00", "10.00")
    await assert_ledger_consistent(app)


async def test_an_unpaid_top_up_cannot_be_refunded(client) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund"), 409, "topup_not_refundable")
    expect_error(await client.post("/v1/topups/top_missing/refund"), 404, "not_found")


async def test_two_requests_finishing_one_refund_take_the_credits_back_once(client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    # The first call to reach Stripe is slow: the other request starts meanwhile, finds the refund pending,
    # retries it under the same idempotency key and finishes it first.
    fakes.stripe.stall_next(0.5)
    answers = await asyncio.gather(*(client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "5"})
                                     for _ in range(2)))
    assert [a.status_code for a in answers] == [201, 201]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    refunded = await topup(client, opened["id"])
    assert (refunded["amount_refunded"], refunded["needs_review"]) == ("5.00", False)
    intent = fakes.stripe.intents[refunded["payment_id"]]
    assert fakes.stripe.charges[intent["latest_charge"]]["amount_refunded"] == 500
    assert await available(client, customer, "USD") == "7.50"


async def test_a_refund_whose_answer_was_lost_is_finished_by_the_job(app, client, gateway_client, fakes, clock) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "stripe", amount="12.50", currency="USD")
    # Stripe refunds, but its answer is lost on the way back.
    fakes.stripe.lose_next_answer(503, {"error": {"type": "api_error", "message": "connection reset"}})
    expect_error(await client.post(f"/v1/topups/{opened['id']}/refund",
                                   json={"amount": "5", "reason": "requested_by_customer"}), 503, "gateway_unavailable")
    intent = fakes.stripe.intents[(await topup(client, opened["id"]))["payment_id"]]
    assert fakes.stripe.charges[intent["latest_charge"]]["amount_refunded"] == 500
    assert (await wallet(client, customer, "USD"))["held"] == "5.00"
    await app.state.jobs.run_once()
    assert (await topup(client, opened["id"]))["amount_refunded"] == "0.00"  # too young to retry
    clock.advance(minutes=16)
    # The retry repeats the request exactly (reason included): Stripe answers it from its idempotency store.
    await app.state.jobs.run_once()
    finished = await topup(client, opened["id"])
    assert (finished["status"], finished["amount_refunded"], finished["needs_review"]) == (
        "partially_refunded", "5.00", False
    )
    after = await wallet(client, customer, "USD")
    assert (after["available"], after["held"], after["posted"]) == ("7.50", "0.00", "7.50")
    assert fakes.stripe.charges[intent["latest_charge"]]["amount_refunded"] == 500
    await assert_ledger_consistent(app)


async def test_a_refund_razorpay_fails_later_gives_the_credits_back(app, client, gateway_client, fakes) -> None:
    customer, opened = await paid_topup(client, gateway_client, fakes, "razorpay", amount="1000", currency="INR")
    before = await wallet(client, customer, "INR")
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "590"}), 201)
    assert refund["topup_status"] == "partially_refunded"
    failed = fakes.razorpay.fail_refund(refund["gateway_refund_id"])
    assert outcomes(await deliver(gateway_client, "razorpay", failed)) == ["moved"]
    assert outcomes(await deliver(gateway_client, "razorpay", failed)) == ["duplicate"]
    restored = await topup(client, opened["id"])
    assert (restored["status"], restored["amount_refunded"], restored["needs_review"]) == ("paid", "0.00", False)
    after = await wallet(client, customer, "INR")
    assert (after["available"], after["posted"]) == (before["available"], before["posted"])
    # Refundable again, in full.
    again = ok(await client.post(f"/v1/topups/{opened['id']}/refund"), 201)
    assert (again["amount"], again["topup_status"]) == ("1180.00", "refunded")
    await assert_ledger_consistent(app)


async def test_a_failed_refund_whose_grant_ended_is_flagged(app, client, gateway_client, fakes) -> None:
    _, opened = await paid_topup(client, gateway_client, fakes, "razorpay", amount="1000", currency="INR")
    refund = ok(await client.post(f"/v1/topups/{opened['id']}/refund", json={"amount": "590"}), 201)
    paid_grant = (await topup(client, opened["id"]))["grants"]["paid"]
    ok(await client.post(f"/v1/credit_grants/{paid_grant}/void"))
    failed = fakes.razorpay.fail_refund(refund["gateway_refund_id"])
    assert outcomes(await deliver(gateway_client, "razorpay", failed)) == ["moved"]
    restored = await topup(client, opened["id"])
    assert restored["needs_review"] and "not, their grant has ended" in restored["review_reason"]
    await assert_ledger_consistent(app)
