"""Stripe events into POST /v1/webhooks/stripe: each payment credits exactly once, or never."""

from __future__ import annotations

from tests.factories import customer_id, expect_error
from tests.payments.fakes.live_server import Notification
from tests.topups.support import available, deliver, inbox, open_topup, outcomes, topup, topup_grants


async def stripe_topup(client, amount: str = "12.50") -> tuple[str, dict]:
    customer = await customer_id(client, currency="USD")
    return customer, await open_topup(client, customer, "stripe", amount=amount, currency="USD")


async def test_checkout_completed_and_intent_succeeded_credit_once(client, gateway_client, fakes) -> None:
    customer, opened = await stripe_topup(client)
    completed, succeeded = fakes.stripe.pay(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "stripe", succeeded)) == ["duplicate"]
    paid = await topup(client, opened["id"])
    assert (paid["status"], paid["payment_id"]) == ("paid", fakes.stripe.sessions[opened["gateway_reference"]]
                                                   ["payment_intent"])
    assert await available(client, customer, "USD") == "12.50"
    assert await topup_grants(client, customer) == [("paid", "12.50", "12.50")]


async def test_events_in_any_order_credit_once(client, gateway_client, fakes) -> None:
    customer, opened = await stripe_topup(client)
    completed, succeeded = fakes.stripe.pay(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", succeeded)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["duplicate"]
    # An expiry reported after the payment does not move a paid top-up back.
    expired = fakes.stripe.event("checkout.session.expired", {**fakes.stripe.sessions[opened["gateway_reference"]],
                                                              "status": "expired"})
    assert outcomes(await deliver(gateway_client, "stripe", expired)) == ["unchanged"]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "USD") == "12.50"


async def test_a_replayed_event_changes_nothing(app, client, gateway_client, fakes, clock) -> None:
    customer, opened = await stripe_topup(client)
    completed, _ = fakes.stripe.pay(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["duplicate"]
    # Past Stripe's five-minute tolerance the same bytes are refused outright.
    clock.advance(minutes=6)
    expect_error(await deliver(gateway_client, "stripe", completed), 400, "invalid_signature")
    assert await available(client, customer, "USD") == "12.50"
    assert await inbox(app, "stripe") == [("checkout.session.completed", "credited")]


async def test_a_forged_or_altered_event_is_refused_and_nothing_is_stored(app, client, gateway_client, fakes) -> None:
    _, opened = await stripe_topup(client)
    completed, _ = fakes.stripe.pay(opened["gateway_reference"])
    forged = fakes.stripe.signed(completed.body, secret="whsec_guessed")
    expect_error(await deliver(gateway_client, "stripe", forged), 400, "invalid_signature")
    altered = Notification(completed.body.replace(b'"amount_total": 1250', b'"amount_total": 125'), completed.headers)
    assert altered.body != completed.body
    expect_error(await deliver(gateway_client, "stripe", altered), 400, "invalid_signature")
    unsigned = Notification(completed.body, {"Content-Type": "application/json"})
    expect_error(await deliver(gateway_client, "stripe", unsigned), 400, "invalid_signature")
    assert await inbox(app, "stripe") == []
    assert (await topup(client, opened["id"]))["status"] == "pending"
    # The genuine event still credits: the refusals stored nothing that would swallow it.
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["credited"]


async def test_a_payment_of_another_amount_is_flagged_not_credited(client, gateway_client, fakes) -> None:
    customer, opened = await stripe_topup(client)
    session = fakes.stripe.sessions[opened["gateway_reference"]]
    session["amount_total"] = 125  # Stripe reports 1.25 USD paid for a 12.50 USD order
    for event in fakes.stripe.pay(session["id"]):
        assert outcomes(await deliver(gateway_client, "stripe", event)) == ["flagged"]
    flagged = await topup(client, opened["id"])
    assert (flagged["status"], flagged["needs_review"]) == ("pending", True)
    assert "paid 1.25 USD" in flagged["review_reason"] and "12.50" in flagged["review_reason"]
    assert await available(client, customer, "USD") == "0.00"
    assert await topup_grants(client, customer) == []


async def test_a_payment_after_the_session_expired_is_credited(client, gateway_client, fakes) -> None:
    customer, opened = await stripe_topup(client)
    expired = fakes.stripe.expire_session(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", expired)) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "expired"
    for event, outcome in zip(fakes.stripe.pay(opened["gateway_reference"]), ["credited", "duplicate"], strict=True):
        assert outcomes(await deliver(gateway_client, "stripe", event)) == [outcome]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "USD") == "12.50"


async def test_a_delayed_payment_that_fails_is_not_credited(client, gateway_client, fakes) -> None:
    customer, opened = await stripe_topup(client)
    [completed_unpaid] = fakes.stripe.pay_async(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", completed_unpaid)) == ["unchanged"]
    for event in fakes.stripe.settle_async(opened["gateway_reference"], succeed=False):
        await deliver(gateway_client, "stripe", event)
    failed = await topup(client, opened["id"])
    assert failed["status"] == "failed" and failed["failure_reason"].startswith("stripe:")
    assert await available(client, customer, "USD") == "0.00"


async def test_events_of_payments_creditflow_did_not_create_are_ignored(app, gateway_client, fakes) -> None:
    stranger = fakes.stripe.event("payment_intent.succeeded", {"id": "pi_other", "object": "payment_intent",
                                                               "status": "succeeded", "amount": 500,
                                                               "currency": "usd", "metadata": {}})
    assert outcomes(await deliver(gateway_client, "stripe", stranger)) == ["ignored"]
    assert await inbox(app, "stripe") == [("payment_intent.succeeded", "ignored")]
