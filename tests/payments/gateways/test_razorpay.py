"""The Razorpay adapter through the official SDK, against a local Razorpay."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator

import pytest

from creditflow import money
from creditflow.payments.gateways import (
    ExpireOutcome,
    GatewayRefused,
    GatewayUnavailable,
    InvalidSignature,
    OperationNotSupported,
    PaymentKind,
    RefundOutcome,
    SavedMethodCharge,
    SavedPaymentMethod,
    UnsupportedAmount,
    UnsupportedCurrency,
)
from creditflow.payments.gateways.razorpay import RazorpayGateway
from tests.payments.fakes.live_server import Notification, closed_port_url
from tests.payments.fakes.razorpay_server import KEY_ID, KEY_SECRET, WEBHOOK_SECRET, FakeRazorpay
from tests.payments.support import checkout_request, refund_request

OLD_SECRET = "rzp_webhook_old"


@pytest.fixture
def fake() -> Iterator[FakeRazorpay]:
    with FakeRazorpay() as server:
        yield server


def razorpay_gateway(api_base: str, **kwargs: object) -> RazorpayGateway:
    options: dict = {"key_id": KEY_ID, "key_secret": KEY_SECRET, "webhook_secrets": [WEBHOOK_SECRET],
                     "timeout": 2.0, **kwargs}
    return RazorpayGateway(api_base=api_base, **options)


@pytest.fixture
def gateway(fake: FakeRazorpay) -> RazorpayGateway:
    return razorpay_gateway(fake.url)


@pytest.fixture
def offline() -> RazorpayGateway:
    return razorpay_gateway(closed_port_url())


def parse_one(gateway: RazorpayGateway, notification: Notification):
    [event] = gateway.parse_webhook(notification.body, notification.headers)
    return event


async def an_order(gateway: RazorpayGateway, amount: str = "499.00"):
    request = checkout_request(amount, "INR")
    return request, await gateway.create_checkout(request)


# --- checkout --------------------------------------------------------------------------------------


async def test_create_checkout_makes_an_order_for_checkout_js(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway, "499.99")
    order = fake.orders[checkout.gateway_reference]
    assert checkout.gateway_reference.startswith("order_")
    assert (checkout.checkout_url, checkout.publishable_key) == (None, KEY_ID)
    assert (order["amount"], order["currency"], order["receipt"]) == (49999, "INR", request.topup_id)
    assert order["notes"]["topup_id"] == request.topup_id


@pytest.mark.parametrize(("amount", "currency", "minor"), [("499.99", "INR", 49999), ("100", "inr", 10000)])
def test_amounts_are_paise(offline: RazorpayGateway, amount: str, currency: str, minor: int) -> None:
    assert offline.to_minor(money.parse(amount), currency) == minor
    assert offline.from_minor(minor, currency) == money.parse(amount)


def test_amounts_razorpay_cannot_take_are_refused(offline: RazorpayGateway) -> None:
    with pytest.raises(UnsupportedAmount):
        offline.check_amount(money.parse("100.005"), "INR")
    for unit in ("CREDITS", "XYZ"):
        with pytest.raises(UnsupportedCurrency):
            offline.check_amount(money.parse("100"), unit)


async def test_an_order_below_the_minimum_is_refused(gateway: RazorpayGateway) -> None:
    with pytest.raises(GatewayRefused):
        await gateway.create_checkout(checkout_request("0.50", "INR"))


# --- events ----------------------------------------------------------------------------------------


async def test_a_failed_attempt_then_a_capture(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway)
    failed = parse_one(gateway, fake.fail_attempt(checkout.gateway_reference))
    assert (failed.status.kind, failed.status.raw_status) == (PaymentKind.FAILED, "BAD_REQUEST_ERROR")
    authorized, captured, paid = (parse_one(gateway, n) for n in fake.capture(checkout.gateway_reference))
    assert [e.status.kind for e in (authorized, captured, paid)] == [
        PaymentKind.PENDING, PaymentKind.PAID, PaymentKind.PAID]
    assert captured.status.payment_id == paid.status.payment_id != failed.status.payment_id
    assert (captured.status.amount, captured.status.currency) == (money.parse("499.00"), "INR")
    assert captured.status.gateway_reference == checkout.gateway_reference
    assert paid.status.topup_id == request.topup_id and not paid.needs_confirmation
    assert len({failed.event_key, authorized.event_key, captured.event_key, paid.event_key}) == 4


async def test_payment_events_are_named_by_confirm(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway)
    _, captured, _ = fake.capture(checkout.gateway_reference)
    event = parse_one(gateway, captured)
    assert (event.status.topup_id, event.needs_confirmation) == (None, True)
    confirmed = await gateway.confirm(event)
    assert (confirmed.status.topup_id, confirmed.status.kind) == (request.topup_id, PaymentKind.PAID)
    assert not confirmed.needs_confirmation
    assert await gateway.confirm(confirmed) is confirmed


async def test_refund_events_are_partial_then_full(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway, "1000.00")
    fake.capture(checkout.gateway_reference)
    await gateway.refund(refund_request(checkout.gateway_reference, "250.00", "INR"))
    partial = await gateway.confirm(parse_one(gateway, fake.outbox[-1]))
    await gateway.refund(refund_request(checkout.gateway_reference, "750.00", "INR"))
    full = await gateway.confirm(parse_one(gateway, fake.outbox[-1]))
    assert (partial.status.kind, partial.status.amount_refunded) == (PaymentKind.PARTIALLY_REFUNDED, 250_000_000)
    assert (full.status.kind, full.status.amount_refunded) == (PaymentKind.REFUNDED, 1000_000_000)
    assert partial.status.topup_id == full.status.topup_id == request.topup_id


async def test_a_dispute(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway)
    _, captured, _ = fake.capture(checkout.gateway_reference)
    payment_id = captured.json()["payload"]["payment"]["entity"]["id"]
    event = await gateway.confirm(parse_one(gateway, fake.dispute(payment_id)))
    assert (event.status.kind, event.status.topup_id) == (PaymentKind.DISPUTED, request.topup_id)


async def test_a_failed_refund_names_creditflows_refund(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway, "1000.00")
    fake.capture(checkout.gateway_reference)
    asked = refund_request(checkout.gateway_reference, "250.00", "INR")
    made = await gateway.refund(asked)
    event = await gateway.confirm(parse_one(gateway, fake.fail_refund(made.refund_id)))
    assert (event.status.kind, event.status.refund_id, event.status.topup_id) == (
        PaymentKind.REFUND_FAILED, asked.idempotency_key, request.topup_id
    )
    assert event.status.amount_refunded == 0


def test_other_events_are_ignored(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    refund = {"id": "rfnd_1", "entity": "refund", "payment_id": "pay_1", "amount": 100, "status": "created"}
    for notification in (fake.webhook("refund.created", refund=refund), fake.webhook("settlement.processed")):
        event = parse_one(gateway, notification)
        assert (event.status.kind, event.needs_confirmation) == (PaymentKind.IGNORED, False)


def test_dedup_key_is_the_signed_event_and_entity_ids_never_the_event_id_header(
    fake: FakeRazorpay, gateway: RazorpayGateway
) -> None:
    payment = {"id": "pay_1", "entity": "payment", "amount": 100, "currency": "INR", "status": "captured",
               "order_id": "order_1"}
    notification = fake.webhook("payment.captured", payment=payment)
    replayed = Notification(notification.body, {**notification.headers, "X-Razorpay-Event-Id": "evt_forged"})
    key = parse_one(gateway, notification).event_key
    assert key == "payment.captured:payment=pay_1"
    assert parse_one(gateway, replayed).event_key == key
    without_entities = fake.webhook("settlement.processed")
    assert parse_one(gateway, without_entities).event_key == hashlib.sha256(without_entities.body).hexdigest()


# --- signatures ------------------------------------------------------------------------------------


def test_forged_tampered_and_wrongly_signed_bodies_are_refused(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    payment = {"id": "pay_1", "entity": "payment", "amount": 49900, "currency": "INR", "status": "captured",
               "order_id": "order_1"}
    good = fake.webhook("payment.captured", payment=payment)
    attempts = [
        (good.body, {**good.headers, "X-Razorpay-Signature": "0" * 64}),
        (good.body.replace(b"49900", b"4990000"), good.headers),
        (good.body, fake.webhook("payment.captured", secret="someone-else", payment=payment).headers),
        (good.body, {"Content-Type": "application/json"}),
        (good.body, {**good.headers, "X-Razorpay-Signature": "é" * 64}),
    ]
    for body, headers in attempts:
        with pytest.raises(InvalidSignature):
            gateway.parse_webhook(body, headers)
    assert parse_one(gateway, good).status.kind is PaymentKind.PAID


def test_the_old_secret_is_accepted_while_rotating(fake: FakeRazorpay) -> None:
    rotating = razorpay_gateway(fake.url, webhook_secrets=[WEBHOOK_SECRET, OLD_SECRET])
    for secret in (WEBHOOK_SECRET, OLD_SECRET):
        assert parse_one(rotating, fake.webhook("settlement.processed", secret=secret))
    with pytest.raises(InvalidSignature):
        notification = fake.webhook("settlement.processed", secret=OLD_SECRET)
        razorpay_gateway(fake.url).parse_webhook(notification.body, notification.headers)


def test_a_signed_body_that_is_not_an_event_is_refused(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    notification = fake.signed(json.dumps(["not", "an", "event"]).encode())
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, notification.headers)


async def test_checkout_signature(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    _, checkout = await an_order(gateway)
    _, captured, _ = fake.capture(checkout.gateway_reference)
    payment_id = captured.json()["payload"]["payment"]["entity"]["id"]
    signature = fake.checkout_signature(checkout.gateway_reference, payment_id)
    gateway.verify_checkout_signature(checkout.gateway_reference, payment_id, signature)
    for order_id, pay_id, sig in [
        ("order_someone_elses", payment_id, signature),
        (checkout.gateway_reference, "pay_other", signature),
        (checkout.gateway_reference, payment_id, "0" * 64),
        (checkout.gateway_reference, payment_id, "ü" * 64),
    ]:
        with pytest.raises(InvalidSignature):
            gateway.verify_checkout_signature(order_id, pay_id, sig)


# --- status, expire, refund ------------------------------------------------------------------------


async def test_fetch_status_follows_the_order(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    request, checkout = await an_order(gateway, "800.00")
    reference = checkout.gateway_reference
    created = await gateway.fetch_status(reference)
    assert (created.kind, created.raw_status, created.topup_id) == (PaymentKind.PENDING, "created", request.topup_id)
    fake.fail_attempt(reference)
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.FAILED
    fake.authorize_only(reference)
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.PENDING
    fake.capture(reference)
    paid = await gateway.fetch_status(reference)
    assert (paid.kind, paid.amount, paid.topup_id) == (PaymentKind.PAID, 800_000_000, request.topup_id)
    await gateway.refund(refund_request(reference, "300.00", "INR", payment_id=paid.payment_id))
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.PARTIALLY_REFUNDED
    await gateway.refund(refund_request(reference, "500.00", "INR"))
    assert (await gateway.fetch_status(reference)).kind is PaymentKind.REFUNDED


async def test_expire_is_not_supported(gateway: RazorpayGateway) -> None:
    _, checkout = await an_order(gateway)
    assert (await gateway.expire(checkout.gateway_reference)).outcome is ExpireOutcome.UNSUPPORTED


async def test_refund_is_idempotent_and_refuses_what_it_cannot(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    _, checkout = await an_order(gateway, "500.00")
    assert (await gateway.refund(refund_request(checkout.gateway_reference, "1.00", "INR"))).outcome is (
        RefundOutcome.REFUSED)
    fake.capture(checkout.gateway_reference)
    request = refund_request(checkout.gateway_reference, "100.00", "INR", idempotency_key="short")
    first, again = await gateway.refund(request), await gateway.refund(request)
    assert (first.outcome, again.refund_id) == (RefundOutcome.REFUNDED, first.refund_id)
    assert len(fake.refunds) == 1
    too_much = await gateway.refund(refund_request(checkout.gateway_reference, "450.00", "INR"))
    assert too_much.outcome is RefundOutcome.REFUSED and "greater than" in too_much.message


async def test_saved_methods_are_not_a_razorpay_feature(offline: RazorpayGateway) -> None:
    saved = SavedPaymentMethod(customer="cust_1", payment_method="token_1")
    with pytest.raises(OperationNotSupported):
        await offline.charge_saved_method(SavedMethodCharge(
            topup_id="top_1", amount=money.parse("100"), currency="INR", saved_method=saved, description="x"))
    with pytest.raises(OperationNotSupported):
        await offline.detach_payment_method(saved)
    assert not offline.saves_payment_methods


# --- failures --------------------------------------------------------------------------------------


async def test_server_errors_are_transient(fake: FakeRazorpay, gateway: RazorpayGateway) -> None:
    fake.fail_next(503, {"error": {"code": "SERVER_ERROR", "description": "try later"}})
    with pytest.raises(GatewayUnavailable):
        await gateway.create_checkout(checkout_request("499", "INR"))
    fake.fail_next(502, b"<html>bad gateway</html>", content_type="text/html")
    with pytest.raises(GatewayUnavailable):
        await gateway.fetch_status("order_x")
    assert len(fake.orders) == 0  # never retried behind the caller's back


async def test_a_closed_port_and_a_stall_are_transient(fake: FakeRazorpay) -> None:
    with pytest.raises(GatewayUnavailable):
        await razorpay_gateway(closed_port_url()).create_checkout(checkout_request("499", "INR"))
    fake.stall_next(3)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        await razorpay_gateway(fake.url, timeout=0.5).fetch_status("order_x")
    assert time.monotonic() - started < 2


async def test_wrong_keys_are_refused(fake: FakeRazorpay) -> None:
    with pytest.raises(GatewayRefused):
        await razorpay_gateway(fake.url, key_secret="wrong").create_checkout(checkout_request("499", "INR"))
