"""The Stripe adapter through the official SDK, against a local Stripe."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from creditflow import money
from creditflow.clock import ManualClock
from creditflow.payments.gateways import (
    ExpireOutcome,
    GatewayRefused,
    GatewayUnavailable,
    InvalidSignature,
    PaymentKind,
    RefundOutcome,
    SavedMethodCharge,
    SavedPaymentMethod,
    UnsupportedAmount,
    UnsupportedCurrency,
)
from creditflow.payments.gateways.stripe import StripeGateway
from tests.payments.fakes.live_server import closed_port_url
from tests.payments.fakes.stripe_server import SECRET_KEY, WEBHOOK_SECRET, FakeStripe
from tests.payments.support import checkout_request, refund_request

OLD_SECRET = "whsec_old_creditflow"


@pytest.fixture
def fake() -> Iterator[FakeStripe]:
    with FakeStripe() as server:
        yield server


def stripe_gateway(api_base: str, **kwargs: object) -> StripeGateway:
    options: dict = {"secret_key": SECRET_KEY, "webhook_secrets": [WEBHOOK_SECRET], "timeout": 2.0, **kwargs}
    return StripeGateway(api_base=api_base, **options)


@pytest.fixture
def gateway(fake: FakeStripe) -> StripeGateway:
    return stripe_gateway(fake.url)


@pytest.fixture
def offline() -> StripeGateway:
    """For what needs no network: conversions and signatures."""
    return stripe_gateway(closed_port_url())


def parse_one(gateway: StripeGateway, notification) -> object:
    [event] = gateway.parse_webhook(notification.body, notification.headers)
    return event


async def paid_session(fake: FakeStripe, gateway: StripeGateway, **overrides: object):
    request = checkout_request(**overrides)
    checkout = await gateway.create_checkout(request)
    return request, checkout, fake.pay(checkout.gateway_reference)


# --- checkout --------------------------------------------------------------------------------------


async def test_create_checkout_carries_the_topup_id_everywhere(fake: FakeStripe, gateway: StripeGateway) -> None:
    request = checkout_request("12.50", "USD")
    checkout = await gateway.create_checkout(request)
    session = fake.sessions[checkout.gateway_reference]
    assert checkout.gateway_reference.startswith("cs_test_")
    assert checkout.checkout_url == session["url"]
    assert session["client_reference_id"] == request.topup_id
    assert session["metadata"] == {"topup_id": request.topup_id}
    assert fake._intent_data[session["id"]]["metadata"] == {"topup_id": request.topup_id}
    assert (session["amount_total"], session["currency"]) == (1250, "usd")
    assert session["success_url"] == request.return_url


async def test_create_checkout_is_idempotent_on_the_topup_id(fake: FakeStripe, gateway: StripeGateway) -> None:
    request = checkout_request()
    first = await gateway.create_checkout(request)
    again = await gateway.create_checkout(request)
    assert first.gateway_reference == again.gateway_reference
    assert len(fake.sessions) == 1


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.50", "USD", 1250), ("500", "JPY", 500), ("5.12", "KWD", 5120), ("5", "ISK", 500), ("0.5", "eur", 50)],
)
def test_amounts_use_stripe_minor_units(offline: StripeGateway, amount: str, currency: str, minor: int) -> None:
    assert offline.to_minor(money.parse(amount), currency) == minor
    assert offline.from_minor(minor, currency) == money.parse(amount)


@pytest.mark.parametrize(
    ("amount", "currency"), [("0.001", "USD"), ("1.5", "JPY"), ("5.125", "KWD"), ("5.5", "ISK"), ("0", "USD")]
)
def test_amounts_stripe_cannot_take_are_refused(offline: StripeGateway, amount: str, currency: str) -> None:
    with pytest.raises(UnsupportedAmount):
        offline.check_amount(money.parse(amount), currency)


def test_credit_units_are_not_a_stripe_currency(offline: StripeGateway) -> None:
    with pytest.raises(UnsupportedCurrency):
        offline.check_amount(money.parse("10"), "CREDITS")


async def test_a_request_stripe_rejects_is_refused(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRefused) as refused:
        await gateway.create_checkout(checkout_request("0.10", "USD"))
    assert refused.value.details["gateway_code"] == "amount_too_small"


async def test_expiry_is_kept_inside_stripes_window(gateway: StripeGateway) -> None:
    now = datetime.now(UTC)
    soon = await gateway.create_checkout(checkout_request(expires_at=now + timedelta(minutes=5)))
    late = await gateway.create_checkout(checkout_request(expires_at=now + timedelta(days=2)))
    assert timedelta(minutes=30) < soon.expires_at - now <= timedelta(minutes=42)
    assert timedelta(hours=23, minutes=45) < late.expires_at - now < timedelta(hours=24)


async def test_a_retry_of_a_moved_expiry_sends_the_same_parameters(fake: FakeStripe) -> None:
    # Just past a 10-minute boundary (and never behind the fake's wall clock): both calls share one grid step.
    boundary = (int(time.time()) // 600 + 1) * 600
    clock = ManualClock(datetime.fromtimestamp(boundary + 1, UTC))
    gateway = stripe_gateway(fake.url, clock=clock)
    request = checkout_request(expires_at=clock.now() + timedelta(minutes=5))
    first = await gateway.create_checkout(request)
    clock.advance(minutes=3)
    again = await gateway.create_checkout(request)
    assert again.gateway_reference == first.gateway_reference
    assert len(fake.sessions) == 1


# --- events ----------------------------------------------------------------------------------------


async def test_one_payment_gives_two_paid_events_naming_one_topup(fake: FakeStripe, gateway: StripeGateway) -> None:
    request, checkout, notifications = await paid_session(fake, gateway, amount="12.50")
    completed, succeeded = (parse_one(gateway, n) for n in notifications)
    assert completed.event_type == "checkout.session.completed"
    assert succeeded.event_type == "payment_intent.succeeded"
    assert completed.event_key != succeeded.event_key
    for event in (completed, succeeded):
        assert event.status.kind is PaymentKind.PAID
        assert event.status.topup_id == request.topup_id
        assert (event.status.amount, event.status.currency) == (money.parse("12.50"), "USD")
        assert not event.needs_confirmation
    assert completed.status.payment_id == succeeded.status.payment_id == fake.sessions[checkout.gateway_reference][
        "payment_intent"]


async def test_delayed_payment_is_pending_then_paid_or_failed(fake: FakeStripe, gateway: StripeGateway) -> None:
    paid = await gateway.create_checkout(checkout_request())
    failed = await gateway.create_checkout(checkout_request())
    [completed] = fake.pay_async(paid.gateway_reference)
    fake.pay_async(failed.gateway_reference)
    assert parse_one(gateway, completed).status.kind is PaymentKind.PENDING
    succeeded = [parse_one(gateway, n).status.kind for n in fake.settle_async(paid.gateway_reference, succeed=True)]
    lost = [parse_one(gateway, n).status.kind for n in fake.settle_async(failed.gateway_reference, succeed=False)]
    assert succeeded == [PaymentKind.PAID, PaymentKind.PAID]
    assert lost == [PaymentKind.FAILED, PaymentKind.FAILED]


async def test_expired_session_event(fake: FakeStripe, gateway: StripeGateway) -> None:
    request = checkout_request()
    checkout = await gateway.create_checkout(request)
    event = parse_one(gateway, fake.expire_session(checkout.gateway_reference))
    assert (event.status.kind, event.status.topup_id) == (PaymentKind.EXPIRED, request.topup_id)


async def test_refund_events_are_partial_then_full(fake: FakeStripe, gateway: StripeGateway) -> None:
    request, checkout, _ = await paid_session(fake, gateway, amount="20.00")
    await gateway.refund(refund_request(checkout.gateway_reference, "5.00", "USD"))
    partial = parse_one(gateway, fake.outbox[-1])
    await gateway.refund(refund_request(checkout.gateway_reference, "15.00", "USD"))
    full = parse_one(gateway, fake.outbox[-1])
    assert (partial.status.kind, partial.status.amount_refunded) == (PaymentKind.PARTIALLY_REFUNDED, 5_000_000)
    assert (full.status.kind, full.status.amount_refunded) == (PaymentKind.REFUNDED, 20_000_000)
    assert partial.status.topup_id == full.status.topup_id == request.topup_id


async def test_dispute_is_confirmed_through_its_payment_intent(fake: FakeStripe, gateway: StripeGateway) -> None:
    request, checkout, _ = await paid_session(fake, gateway)
    event = parse_one(gateway, fake.dispute(fake.sessions[checkout.gateway_reference]["payment_intent"]))
    assert (event.status.kind, event.status.topup_id, event.needs_confirmation) == (PaymentKind.DISPUTED, None, True)
    confirmed = await gateway.confirm(event)
    assert (confirmed.status.topup_id, confirmed.needs_confirmation) == (request.topup_id, False)
    assert confirmed.status.kind is PaymentKind.DISPUTED


async def test_a_charge_without_metadata_is_named_by_confirm(fake: FakeStripe, gateway: StripeGateway) -> None:
    request, checkout, _ = await paid_session(fake, gateway)
    intent = fake.intents[fake.sessions[checkout.gateway_reference]["payment_intent"]]
    charge = {**fake.charges[intent["latest_charge"]], "metadata": {}, "amount_refunded": 100}
    event = await gateway.confirm(parse_one(gateway, fake.event("charge.refunded", charge)))
    assert (event.status.kind, event.status.topup_id) == (PaymentKind.PARTIALLY_REFUNDED, request.topup_id)


def test_events_that_are_not_ours_are_ignored(fake: FakeStripe, gateway: StripeGateway) -> None:
    foreign_intent = {"id": "pi_other", "object": "payment_intent", "status": "succeeded", "amount": 100,
                      "amount_received": 100, "currency": "usd", "metadata": {}}
    for notification in (fake.event("customer.created", {"id": "cus_1"}),
                         fake.event("payment_intent.succeeded", foreign_intent)):
        event = parse_one(gateway, notification)
        assert (event.status.kind, event.needs_confirmation) == (PaymentKind.IGNORED, False)


# --- signatures ------------------------------------------------------------------------------------


def a_signed_event(fake: FakeStripe, **signing: object):
    return fake.event("checkout.session.expired", {"id": "cs_1", "status": "expired"}, **signing)


def test_a_forged_signature_is_refused(fake: FakeStripe, gateway: StripeGateway) -> None:
    notification = a_signed_event(fake)
    forged = {**notification.headers, "Stripe-Signature": f"t={int(time.time())},v1={'0' * 64}"}
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, forged)


def test_a_tampered_body_is_refused(fake: FakeStripe, gateway: StripeGateway) -> None:
    request = checkout_request()
    notification = fake.event("checkout.session.completed", {
        "id": "cs_1", "status": "complete", "payment_status": "paid", "amount_total": 100, "currency": "usd",
        "client_reference_id": request.topup_id,
    })
    tampered = notification.body.replace(b'"amount_total": 100', b'"amount_total": 100000')
    assert tampered != notification.body
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(tampered, notification.headers)


def test_a_wrong_secret_and_a_missing_header_are_refused(fake: FakeStripe, gateway: StripeGateway) -> None:
    with pytest.raises(InvalidSignature):
        notification = a_signed_event(fake, secret="whsec_someone_else")
        gateway.parse_webhook(notification.body, notification.headers)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, {"Content-Type": "application/json"})


def test_the_old_secret_is_accepted_while_rotating(fake: FakeStripe) -> None:
    rotating = stripe_gateway(fake.url, webhook_secrets=[WEBHOOK_SECRET, OLD_SECRET])
    for secret in (WEBHOOK_SECRET, OLD_SECRET):
        notification = a_signed_event(fake, secret=secret)
        assert parse_one(rotating, notification).status.kind is PaymentKind.EXPIRED
    with pytest.raises(InvalidSignature):
        notification = a_signed_event(fake, secret=OLD_SECRET)
        stripe_gateway(fake.url).parse_webhook(notification.body, notification.headers)


def test_any_matching_v1_is_enough(fake: FakeStripe, gateway: StripeGateway) -> None:
    notification = a_signed_event(fake)
    header = notification.headers["Stripe-Signature"].replace("t=", "v0=abc,t=", 1) + f",v1={'f' * 64}"
    assert parse_one(gateway, type(notification)(notification.body, {"stripe-signature": header}))


@pytest.mark.parametrize("skew", [-301, 301, -3600, 86400])
def test_old_and_future_timestamps_are_refused(fake: FakeStripe, gateway: StripeGateway, skew: int) -> None:
    notification = a_signed_event(fake, timestamp=int(time.time()) + skew)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, notification.headers)


@pytest.mark.parametrize("skew", [-290, 0, 60])
def test_timestamps_within_the_tolerance_are_accepted(fake: FakeStripe, gateway: StripeGateway, skew: int) -> None:
    assert parse_one(gateway, a_signed_event(fake, timestamp=int(time.time()) + skew))


def test_a_signed_body_that_is_not_an_event_is_refused(fake: FakeStripe, gateway: StripeGateway) -> None:
    notification = fake.signed(json.dumps({"hello": "world"}).encode())
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, notification.headers)


# --- status, expire, refund, saved methods ---------------------------------------------------------


async def test_fetch_status_follows_the_session(fake: FakeStripe, gateway: StripeGateway) -> None:
    request = checkout_request("30.00")
    checkout = await gateway.create_checkout(request)
    reference = checkout.gateway_reference
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.PENDING
    fake.pay(reference)
    paid = await gateway.fetch_status(reference)
    assert (paid.kind, paid.topup_id, paid.amount) == (PaymentKind.PAID, request.topup_id, 30_000_000)
    await gateway.refund(refund_request(reference, "10.00", "USD"))
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.PARTIALLY_REFUNDED
    await gateway.refund(refund_request(reference, "20.00", "USD"))
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.REFUNDED
    fake.dispute(paid.payment_id)
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.DISPUTED


async def test_fetch_status_of_expired_and_failed_sessions(fake: FakeStripe, gateway: StripeGateway) -> None:
    expired = await gateway.create_checkout(checkout_request())
    failed = await gateway.create_checkout(checkout_request())
    fake.expire_session(expired.gateway_reference)
    fake.pay_async(failed.gateway_reference)
    fake.settle_async(failed.gateway_reference, succeed=False)
    assert (await gateway.fetch_status(expired.gateway_reference)).kind is PaymentKind.EXPIRED
    assert (await gateway.fetch_status(failed.gateway_reference)).kind is PaymentKind.FAILED


async def test_an_unknown_session_is_refused(gateway: StripeGateway) -> None:
    with pytest.raises(GatewayRefused):
        await gateway.fetch_status("cs_test_nope")


async def test_expire_an_open_session_and_not_a_paid_one(fake: FakeStripe, gateway: StripeGateway) -> None:
    open_session = await gateway.create_checkout(checkout_request())
    expired = await gateway.expire(open_session.gateway_reference)
    assert (expired.outcome, expired.status.kind) == (ExpireOutcome.EXPIRED, PaymentKind.EXPIRED)
    assert (await gateway.expire(open_session.gateway_reference)).outcome is ExpireOutcome.EXPIRED
    _, paid, _ = await paid_session(fake, gateway)
    too_late = await gateway.expire(paid.gateway_reference)
    assert (too_late.outcome, too_late.status.kind) == (ExpireOutcome.NOT_EXPIRABLE, PaymentKind.PAID)


async def test_refund_is_idempotent_and_refuses_too_much(fake: FakeStripe, gateway: StripeGateway) -> None:
    _, checkout, _ = await paid_session(fake, gateway, amount="10.00")
    request = refund_request(checkout.gateway_reference, "4.00", "USD")
    first, again = await gateway.refund(request), await gateway.refund(request)
    assert first.outcome is RefundOutcome.REFUNDED
    assert again.refund_id == first.refund_id
    intent = fake.intents[fake.sessions[checkout.gateway_reference]["payment_intent"]]
    assert fake.charges[intent["latest_charge"]]["amount_refunded"] == 400
    too_much = await gateway.refund(refund_request(checkout.gateway_reference, "7.00", "USD"))
    assert too_much.outcome is RefundOutcome.REFUSED
    assert "greater than unrefunded" in too_much.message


async def test_a_saved_card_is_charged_off_session(fake: FakeStripe, gateway: StripeGateway) -> None:
    _, _, notifications = await paid_session(fake, gateway, save_payment_method=True)
    saved = parse_one(gateway, notifications[1]).status.saved_method
    assert saved is not None and saved.payment_method in fake.saved_methods[saved.customer]
    charge = SavedMethodCharge(topup_id="top_auto1", amount=money.parse("15.00"), currency="USD",
                               saved_method=saved, description="Auto top-up")
    status = await gateway.charge_saved_method(charge)
    assert (status.kind, status.topup_id, status.amount) == (PaymentKind.PAID, "top_auto1", 15_000_000)
    assert (await gateway.charge_saved_method(charge)).payment_id == status.payment_id  # idempotent on topup id
    assert parse_one(gateway, fake.outbox[-1]).status.topup_id == "top_auto1"


@pytest.mark.parametrize("code", ["card_declined", "authentication_required"])
async def test_a_declined_saved_card_is_a_failed_payment(fake: FakeStripe, gateway: StripeGateway, code: str) -> None:
    _, _, notifications = await paid_session(fake, gateway, save_payment_method=True)
    saved = parse_one(gateway, notifications[1]).status.saved_method
    fake.declining[saved.payment_method] = code
    status = await gateway.charge_saved_method(SavedMethodCharge(
        topup_id="top_auto2", amount=money.parse("15.00"), currency="USD", saved_method=saved, description="Auto",
    ))
    assert (status.kind, status.raw_status) == (PaymentKind.FAILED, code)


async def test_checkout_without_saving_keeps_no_method(fake: FakeStripe, gateway: StripeGateway) -> None:
    _, _, notifications = await paid_session(fake, gateway)
    events = [parse_one(gateway, n) for n in notifications]
    assert [(e.status.saved_method, e.needs_confirmation) for e in events] == [(None, False), (None, False)]


async def test_the_saved_card_is_read_from_the_payment_intent(fake: FakeStripe, gateway: StripeGateway) -> None:
    # Neither event shows the card, and the session's does not even name it: both are confirmed with Stripe.
    request, checkout, notifications = await paid_session(fake, gateway, save_payment_method=True)
    session = fake.sessions[checkout.gateway_reference]
    intent = fake.intents[session["payment_intent"]]
    for event in (parse_one(gateway, n) for n in notifications):
        assert event.needs_confirmation and event.status.topup_id == request.topup_id
        saved = (await gateway.confirm(event)).status.saved_method
        assert saved == SavedPaymentMethod(customer=session["customer"], payment_method=intent["payment_method"],
                                           brand="visa", last4="4242", exp_month=12, exp_year=2030)
    status = await gateway.fetch_status(checkout.gateway_reference)
    assert status.saved_method is not None and status.saved_method.last4 == "4242"


async def test_an_off_session_charge_is_read_and_expired_by_its_payment_intent(
    fake: FakeStripe, gateway: StripeGateway
) -> None:
    _, _, notifications = await paid_session(fake, gateway, save_payment_method=True)
    saved = parse_one(gateway, notifications[1]).status.saved_method
    fake.requiring_action.add(saved.payment_method)
    waiting = await gateway.charge_saved_method(SavedMethodCharge(
        topup_id="top_auto3", amount=money.parse("15.00"), currency="USD", saved_method=saved, description="Auto",
    ))
    assert (waiting.kind, waiting.raw_status) == (PaymentKind.PENDING, "requires_action")
    assert (await gateway.fetch_status(waiting.payment_id)).kind is PaymentKind.PENDING
    assert (await gateway.expire(waiting.payment_id)).outcome is ExpireOutcome.EXPIRED
    assert fake.intents[waiting.payment_id]["status"] == "canceled"
    assert (await gateway.expire(waiting.payment_id)).outcome is ExpireOutcome.EXPIRED
    fake.requiring_action.clear()
    paid = await gateway.charge_saved_method(SavedMethodCharge(
        topup_id="top_auto4", amount=money.parse("15.00"), currency="USD", saved_method=saved, description="Auto",
    ))
    too_late = await gateway.expire(paid.payment_id)
    assert (too_late.outcome, too_late.status.kind) == (ExpireOutcome.NOT_EXPIRABLE, PaymentKind.PAID)


async def test_detach_a_saved_card_once_and_again(fake: FakeStripe, gateway: StripeGateway) -> None:
    _, _, notifications = await paid_session(fake, gateway, save_payment_method=True)
    saved = parse_one(gateway, notifications[1]).status.saved_method
    await gateway.detach_payment_method(saved)
    assert fake.payment_methods[saved.payment_method]["customer"] is None
    assert saved.payment_method not in fake.saved_methods[saved.customer]
    await gateway.detach_payment_method(saved)  # detached already: done, not refused
    with pytest.raises(GatewayRefused):
        await gateway.detach_payment_method(SavedPaymentMethod(customer=saved.customer, payment_method="pm_nope"))


# --- failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_are_transient(fake: FakeStripe, gateway: StripeGateway, status: int) -> None:
    fake.fail_next(status, {"error": {"type": "api_error", "message": "try later"}})
    with pytest.raises(GatewayUnavailable):
        await gateway.create_checkout(checkout_request())


async def test_a_garbled_reply_is_transient(fake: FakeStripe, gateway: StripeGateway) -> None:
    fake.fail_next(502, b"<html>bad gateway</html>", content_type="text/html")
    with pytest.raises(GatewayUnavailable):
        await gateway.fetch_status("cs_test_x")


async def test_a_closed_port_is_transient() -> None:
    with pytest.raises(GatewayUnavailable):
        await stripe_gateway(closed_port_url()).create_checkout(checkout_request())


async def test_a_stalled_gateway_times_out(fake: FakeStripe) -> None:
    fake.stall_next(3)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        await stripe_gateway(fake.url, timeout=0.5).fetch_status("cs_test_x")
    assert time.monotonic() - started < 2


async def test_a_wrong_api_key_is_refused(fake: FakeStripe) -> None:
    with pytest.raises(GatewayRefused):
        await stripe_gateway(fake.url, secret_key="sk_test_wrong").create_checkout(checkout_request())
