"""The sandbox gateway: signed checkout links, self-sent signed notifications, process-local state."""

from __future__ import annotations

from datetime import timedelta

import pytest

from creditflow import money
from creditflow.clock import ManualClock
from creditflow.payments.gateways import (
    ExpireOutcome,
    InvalidSignature,
    PaymentKind,
    RefundOutcome,
    UnsupportedAmount,
)
from creditflow.payments.gateways.sandbox import SIGNATURE_HEADER, SandboxGateway, SandboxOrder
from tests.payments.support import checkout_request, refund_request

SECRET = "sandbox-secret"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def gateway(clock: ManualClock) -> SandboxGateway:
    return SandboxGateway(secret=SECRET, public_url="http://billing.test:8000/", clock=clock)


def an_order(clock: ManualClock, **overrides: object) -> SandboxOrder:
    fields: dict = {"topup_id": "top_1", "amount": money.parse("12.50"), "currency": "USD",
                    "description": "Credits", "expires_at": clock.now() + timedelta(hours=1), **overrides}
    return SandboxOrder(**fields)


async def test_checkout_links_to_this_server_with_a_signed_order(clock: ManualClock, gateway: SandboxGateway) -> None:
    request = checkout_request(expires_at=clock.now() + timedelta(hours=1))
    checkout = await gateway.create_checkout(request)
    assert checkout.checkout_url == f"http://billing.test:8000/sandbox/checkout/{request.topup_id}?token={checkout.token}"
    order = gateway.read_checkout_token(request.topup_id, checkout.token)
    assert (order.amount, order.currency, order.return_url) == (request.amount, "USD", request.return_url)
    assert order.expires_at == request.expires_at.replace(microsecond=0)


async def test_a_token_is_bound_to_its_topup_and_secret(clock: ManualClock, gateway: SandboxGateway) -> None:
    checkout = await gateway.create_checkout(checkout_request(topup_id="top_1"))
    other = SandboxGateway(secret="another", public_url="http://x", clock=clock)
    payload, _, signature = checkout.token.partition(".")
    for topup_id, token, reader in [
        ("top_2", checkout.token, gateway),
        ("top_1", checkout.token, other),
        ("top_1", f"{payload}x.{signature}", gateway),
        ("top_1", "", gateway),
    ]:
        with pytest.raises(InvalidSignature):
            reader.read_checkout_token(topup_id, token)


def test_amounts_follow_the_currency(gateway: SandboxGateway) -> None:
    assert gateway.to_minor(money.parse("12.50"), "USD") == 1250
    with pytest.raises(UnsupportedAmount):
        gateway.check_amount(money.parse("12.505"), "USD")


@pytest.mark.parametrize(("outcome", "kind"), [("paid", PaymentKind.PAID), ("failed", PaymentKind.FAILED)])
def test_notifications_parse_back(clock: ManualClock, gateway: SandboxGateway, outcome: str, kind: PaymentKind) -> None:
    notification = gateway.build_notification(an_order(clock), outcome)
    [event] = gateway.parse_webhook(notification.body, notification.headers)
    assert (event.status.kind, event.status.topup_id) == (kind, "top_1")
    assert (event.status.amount, event.status.currency) == (money.parse("12.50"), "USD")
    assert event.event_key == f"sbx_evt_{outcome}_top_1"
    assert not event.needs_confirmation


def test_forged_tampered_stale_and_future_notifications_are_refused(
    clock: ManualClock, gateway: SandboxGateway
) -> None:
    notification = gateway.build_notification(an_order(clock), "paid")
    other = SandboxGateway(secret="another", public_url="http://x", clock=clock).build_notification(
        an_order(clock), "paid")
    attempts = [
        (notification.body, {SIGNATURE_HEADER: "t=1,v1=" + "0" * 64}),
        (notification.body.replace(b"12.50", b"1250.00"), notification.headers),
        (other.body, other.headers),
        (notification.body, {}),
    ]
    for body, headers in attempts:
        with pytest.raises(InvalidSignature):
            gateway.parse_webhook(body, headers)
    clock.advance(seconds=301)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, notification.headers)
    clock.advance(seconds=-602)
    with pytest.raises(InvalidSignature):
        gateway.parse_webhook(notification.body, notification.headers)


async def test_state_is_remembered_in_this_process(clock: ManualClock, gateway: SandboxGateway) -> None:
    order = an_order(clock)
    assert (await gateway.fetch_status("top_1")).kind is PaymentKind.PENDING
    assert gateway.why_not_payable(order) is None
    gateway.record_outcome(order, "failed")
    assert gateway.why_not_payable(order) is None  # a failed attempt may be followed by a payment
    gateway.record_outcome(order, "paid")
    assert (await gateway.fetch_status("top_1")).kind is PaymentKind.PAID
    assert gateway.why_not_payable(order) == "This top-up is already paid."
    assert (await gateway.expire("top_1")).outcome is ExpireOutcome.NOT_EXPIRABLE
    refund = await gateway.refund(refund_request("top_1", "5.00", "USD"))
    assert refund.outcome is RefundOutcome.REFUNDED


async def test_expiry(clock: ManualClock, gateway: SandboxGateway) -> None:
    early, late = an_order(clock, topup_id="top_early"), an_order(clock, topup_id="top_late")
    assert (await gateway.expire("top_early")).outcome is ExpireOutcome.EXPIRED
    assert gateway.why_not_payable(early) == "This checkout has expired."
    assert (await gateway.refund(refund_request("top_early", "1.00", "USD"))).outcome is RefundOutcome.REFUSED
    clock.advance(hours=1)
    assert gateway.why_not_payable(late) == "This checkout has expired."
