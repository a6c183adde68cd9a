"""Razorpay events into POST /v1/webhooks/razorpay: each payment credits exactly once, or never."""

from __future__ import annotations

from tests.factories import customer_id, expect_error
from tests.payments.fakes.live_server import Notification
from tests.topups.support import available, deliver, inbox, open_topup, outcomes, topup, topup_grants


async def razorpay_topup(client, amount: str = "1000") -> tuple[str, dict]:
    customer = await customer_id(client, currency="INR")
    return customer, await open_topup(client, customer, "razorpay", amount=amount, currency="INR")


async def test_payment_captured_and_order_paid_credit_once(client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    authorized, captured, paid = fakes.razorpay.capture(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", authorized)) == ["unchanged"]
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "razorpay", paid)) == ["duplicate"]
    credited = await topup(client, opened["id"])
    assert (credited["status"], credited["payment_id"][:4], credited["payment_method"]) == ("paid", "pay_", "upi")
    # 1,000 INR of credits (GST 180 on top) and the 15% tier: 150 more.
    assert await available(client, customer, "INR") == "1150.00"
    assert await topup_grants(client, customer) == [("paid", "1000.00", "1000.00"), ("promotional", "150.00", None)]


async def test_events_in_any_order_credit_once(client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    authorized, captured, paid = fakes.razorpay.capture(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", paid)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["duplicate"]
    assert outcomes(await deliver(gateway_client, "razorpay", authorized)) == ["unchanged"]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "INR") == "1150.00"


async def test_a_replayed_event_changes_nothing(app, client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    _, captured, _ = fakes.razorpay.capture(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["duplicate"]
    assert await inbox(app, "razorpay") == [("payment.captured", "credited")]
    assert await available(client, customer, "INR") == "1150.00"


async def test_a_forged_or_altered_event_is_refused_and_nothing_is_stored(app, client, gateway_client, fakes) -> None:
    _, opened = await razorpay_topup(client)
    _, captured, _ = fakes.razorpay.capture(opened["gateway_reference"])
    forged = fakes.razorpay.signed(captured.body, secret="rzp_webhook_guessed")
    expect_error(await deliver(gateway_client, "razorpay", forged), 400, "invalid_signature")
    altered = Notification(captured.body.replace(b'"amount": 118000', b'"amount": 100'), captured.headers)
    assert altered.body != captured.body
    expect_error(await deliver(gateway_client, "razorpay", altered), 400, "invalid_signature")
    assert await inbox(app, "razorpay") == []
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["credited"]


async def test_a_payment_of_another_amount_is_flagged_not_credited(client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    fakes.razorpay.orders[opened["gateway_reference"]]["amount"] = 100  # Razorpay reports 1.00 INR paid
    for event in fakes.razorpay.capture(opened["gateway_reference"])[1:]:
        assert outcomes(await deliver(gateway_client, "razorpay", event)) == ["flagged"]
    flagged = await topup(client, opened["id"])
    assert (flagged["status"], flagged["needs_review"]) == ("pending", True)
    assert "paid 1.00 INR" in flagged["review_reason"]
    assert await available(client, customer, "INR") == "0.00"


async def test_a_capture_after_a_failed_attempt_is_credited(client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    failed = fakes.razorpay.fail_attempt(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", failed)) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "failed"
    for event in fakes.razorpay.capture(opened["gateway_reference"]):
        await deliver(gateway_client, "razorpay", event)
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "INR") == "1150.00"
    # A failure reported late does not undo the payment.
    assert outcomes(await deliver(gateway_client, "razorpay", failed)) == ["duplicate"]
    late_failure = fakes.razorpay.fail_attempt(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", late_failure)) == ["unchanged"]
    assert (await topup(client, opened["id"]))["status"] == "paid"


async def test_a_replay_under_a_new_event_id_header_is_the_same_inbox_event(app, client, gateway_client, fakes) -> None:
    customer, opened = await razorpay_topup(client)
    _, captured, _ = fakes.razorpay.capture(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["credited"]
    # The header is not signed: whoever replays the body can change it, so it must not make a new event.
    replayed = Notification(captured.body, {**captured.headers, "X-Razorpay-Event-Id": "evt_replayed"})
    assert outcomes(await deliver(gateway_client, "razorpay", replayed)) == ["duplicate"]
    assert await inbox(app, "razorpay") == [("payment.captured", "credited")]
    assert await available(client, customer, "INR") == "1150.00"
