"""The Midtrans adapter through the official SDK, against a local Midtrans."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

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
from creditflow.payments.gateways.midtrans import MidtransGateway
from tests.payments.fakes.live_server import Notification, closed_port_url
from tests.payments.fakes.midtrans_server import CLIENT_KEY, SERVER_KEY, FakeMidtrans
from tests.payments.support import checkout_request, refund_request


@pytest.fixture
def fake() -> Iterator[FakeMidtrans]:
    with FakeMidtrans() as server:
        yield server


def midtrans_gateway(base: str, **kwargs: object) -> MidtransGateway:
    options: dict = {"server_key": SERVER_KEY, "client_key": CLIENT_KEY, "timeout": 2.0, **kwargs}
    return MidtransGateway(snap_base=base, core_base=base, **options)


@pytest.fixture
def gateway(fake: FakeMidtrans) -> MidtransGateway:
    return midtrans_gateway(fake.url)


@pytest.fixture
def offline() -> MidtransGateway:
    return midtrans_gateway(closed_port_url())


def parse_one(gateway: MidtransGateway, notification: Notification):
    [event] = gateway.parse_webhook(notification.body, notification.headers)
    return event


async def an_order(gateway: MidtransGateway, amount: str = "150000"):
    request = checkout_request(amount, "IDR")
    await gateway.create_checkout(request)
    return request.topup_id


def resigned(fake: FakeMidtrans, notification: Notification, **changes: str) -> Notification:
    body = {key: value for key, value in notification.json().items() if key != "signature_key"}
    return fake.signed({**body, **changes})


# --- checkout --------------------------------------------------------------------------------------


async def test_create_checkout_opens_a_snap_for_the_topup(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    request = checkout_request("150000", "IDR", expires_at=datetime.now(UTC) + timedelta(minutes=90))
    checkout = await gateway.create_checkout(request)
    sent = fake.snaps[request.topup_id]["body"]
    assert (checkout.gateway_reference, checkout.token) == (request.topup_id, fake.snaps[request.topup_id]["token"])
    assert checkout.checkout_url.endswith(checkout.token)
    assert checkout.publishable_key == CLIENT_KEY
    assert sent["transaction_details"] == {"order_id": request.topup_id, "gross_amount": 150000}
    assert sent["customer_details"] == {"first_name": "Ayu", "last_name": "Lestari", "email": "ayu@example.com"}
    assert sent["expiry"]["unit"] == "minute" and sent["expiry"]["duration"] in (89, 90)
    assert sent["expiry"]["start_time"].endswith("+0700")
    assert sent["callbacks"] == {"finish": request.return_url}


def test_amounts_are_whole_rupiah(offline: MidtransGateway) -> None:
    assert offline.to_minor(money.parse("150000"), "IDR") == 150000
    assert offline.from_minor(150000, "IDR") == money.parse("150000")
    with pytest.raises(UnsupportedAmount) as fractional:
        offline.check_amount(money.parse("150000.50"), "IDR")
    assert "IDR" in fractional.value.message and fractional.value.param == "amount"
    with pytest.raises(UnsupportedCurrency):
        offline.check_amount(money.parse("10"), "USD")


async def test_a_paid_order_id_cannot_be_reused(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    request = checkout_request("150000", "IDR")
    await gateway.create_checkout(request)
    fake.choose(request.topup_id)
    fake.settle(request.topup_id)
    with pytest.raises(GatewayRefused) as refused:
        await gateway.create_checkout(request)
    assert refused.value.details["status"] == 406


# --- notifications ---------------------------------------------------------------------------------


async def test_pending_then_settlement_delivered_out_of_order(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway)
    pending_note, settled_note = fake.choose(topup_id), fake.settle(topup_id)
    settled, pending = parse_one(gateway, settled_note), parse_one(gateway, pending_note)
    assert (settled.status.kind, pending.status.kind) == (PaymentKind.PAID, PaymentKind.PENDING)
    assert settled.needs_confirmation and pending.needs_confirmation
    assert pending.event_key == hashlib.sha256(pending_note.body).hexdigest() != settled.event_key
    assert (settled.status.topup_id, settled.status.amount, settled.status.payment_method) == (
        topup_id, money.parse("150000"), "bank_transfer")
    # The late `pending` is confirmed as what Midtrans says now.
    assert (await gateway.confirm(pending)).status.kind is PaymentKind.PAID


async def test_a_status_the_signature_does_not_cover_is_corrected(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway)
    pending_note = fake.choose(topup_id)
    body = json.loads(pending_note.body)
    body["transaction_status"] = "settlement"  # signature_key stays valid: it covers no status
    lie = parse_one(gateway, Notification(json.dumps(body).encode(), pending_note.headers))
    assert lie.status.kind is PaymentKind.PAID and lie.needs_confirmation
    confirmed = await gateway.confirm(lie)
    assert (confirmed.status.kind, confirmed.needs_confirmation) == (PaymentKind.PENDING, False)


@pytest.mark.parametrize(
    ("fraud", "kind"), [("accept", PaymentKind.PAID), ("challenge", PaymentKind.PENDING), ("deny", PaymentKind.FAILED)]
)
async def test_card_capture_depends_on_fraud_status(
    fake: FakeMidtrans, gateway: MidtransGateway, fraud: str, kind: PaymentKind
) -> None:
    topup_id = await an_order(gateway)
    event = parse_one(gateway, fake.capture_card(topup_id, fraud))
    assert (event.status.kind, event.status.raw_status) == (kind, f"capture/{fraud}")


async def test_capture_without_a_fraud_status_is_paid(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway)
    note = fake.capture_card(topup_id)
    body = {key: value for key, value in note.json().items() if key not in ("signature_key", "fraud_status")}
    assert parse_one(gateway, fake.signed(body)).status.kind is PaymentKind.PAID


async def test_failed_expired_and_disputed(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    denied, expired, charged_back = [await an_order(gateway) for _ in range(3)]
    fake.choose(denied, "credit_card")
    fake.choose(expired)
    fake.choose(charged_back, "credit_card")
    fake.settle(charged_back)
    assert parse_one(gateway, fake.deny(denied)).status.kind is PaymentKind.FAILED
    assert parse_one(gateway, fake.expire_now(expired)).status.kind is PaymentKind.EXPIRED
    assert parse_one(gateway, fake.chargeback(charged_back)).status.kind is PaymentKind.DISPUTED


async def test_two_partial_refunds_are_two_events(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway, "100000")
    fake.choose(topup_id, "gopay")
    fake.settle(topup_id)
    for amount in ("30000", "20000"):
        assert (await gateway.refund(refund_request(topup_id, amount, "IDR"))).outcome is RefundOutcome.REFUNDED
    first, second = (parse_one(gateway, note) for note in fake.outbox[-2:])
    assert first.event_key != second.event_key
    assert (first.status.kind, first.status.amount_refunded) == (PaymentKind.PARTIALLY_REFUNDED, 30_000_000_000)
    assert second.status.amount_refunded == 50_000_000_000
    await gateway.refund(refund_request(topup_id, "50000", "IDR"))
    assert parse_one(gateway, fake.outbox[-1]).status.kind is PaymentKind.REFUNDED


async def test_forged_tampered_and_wrongly_keyed_notifications_are_refused(
    fake: FakeMidtrans, gateway: MidtransGateway
) -> None:
    topup_id = await an_order(gateway)
    good = fake.choose(topup_id)
    body = good.json()
    attempts = [
        {**body, "signature_key": "0" * 128},
        {**body, "gross_amount": "1500000.00"},
        {**body, "order_id": "someone-elses-order"},
        {**body, "status_code": 200},
    ]
    for forged in attempts:
        with pytest.raises(InvalidSignature):
            gateway.parse_webhook(json.dumps(forged).encode(), good.headers)
    for bad in (fake.notification(topup_id, server_key="SB-Mid-server-other").body, b"not json", b"[]"):
        with pytest.raises(InvalidSignature):
            gateway.parse_webhook(bad, good.headers)
    assert parse_one(gateway, resigned(fake, good)).status.kind is PaymentKind.PENDING


# --- status, expire, refund ------------------------------------------------------------------------


async def test_fetch_status_before_and_after_a_method_is_chosen(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway)
    unknown = await gateway.fetch_status(topup_id)
    assert (unknown.kind, unknown.raw_status, unknown.topup_id) == (PaymentKind.PENDING, "not_found", topup_id)
    fake.choose(topup_id)
    assert (await gateway.fetch_status(topup_id)).kind is PaymentKind.PENDING
    fake.settle(topup_id)
    paid = await gateway.fetch_status(topup_id)
    assert (paid.kind, paid.amount, paid.payment_id) == (
        PaymentKind.PAID, money.parse("150000"), fake.transactions[topup_id]["transaction_id"])


async def test_a_not_found_in_an_http_200_body_is_still_not_found(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    fake.fail_next(200, {"status_code": "404", "status_message": "Transaction doesn't exist."})
    assert (await gateway.fetch_status("top_x")).raw_status == "not_found"


async def test_expire(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    unopened, pending, paid = [await an_order(gateway) for _ in range(3)]
    assert (await gateway.expire(unopened)).outcome is ExpireOutcome.UNSUPPORTED
    fake.choose(pending)
    expired = await gateway.expire(pending)
    assert (expired.outcome, expired.status.kind) == (ExpireOutcome.EXPIRED, PaymentKind.EXPIRED)
    fake.choose(paid)
    fake.settle(paid)
    too_late = await gateway.expire(paid)
    assert (too_late.outcome, too_late.status.kind) == (ExpireOutcome.NOT_EXPIRABLE, PaymentKind.PAID)


async def test_a_bank_transfer_refund_is_manual(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    topup_id = await an_order(gateway)
    fake.choose(topup_id, "bank_transfer")
    fake.settle(topup_id)
    result = await gateway.refund(refund_request(topup_id, "50000", "IDR"))
    assert result.outcome is RefundOutcome.MANUAL and "bank_transfer" in result.message
    assert ("POST", f"/v2/{topup_id}/refund") not in fake.requests


async def test_refunds_are_idempotent_and_limited(fake: FakeMidtrans, gateway: MidtransGateway) -> None:
    unpaid = await an_order(gateway)
    assert (await gateway.refund(refund_request(unpaid, "1000", "IDR"))).outcome is RefundOutcome.REFUSED
    topup_id = await an_order(gateway, "100000")
    fake.choose(topup_id, "qris")
    fake.settle(topup_id)
    request = refund_request(topup_id, "40000", "IDR", idempotency_key="refund key with spaces")
    first, again = await gateway.refund(request), await gateway.refund(request)
    assert (first.outcome, again.refund_id) == (RefundOutcome.REFUNDED, first.refund_id)
    assert fake.transactions[topup_id]["refunded"] == 40000
    too_much = await gateway.refund(refund_request(topup_id, "70000", "IDR"))
    assert too_much.outcome is RefundOutcome.REFUSED and "exceeds" in too_much.message


async def test_no_saved_methods_or_checkout_signatures(offline: MidtransGateway) -> None:
    saved = SavedPaymentMethod(customer="c", payment_method="m")
    with pytest.raises(OperationNotSupported):
        await offline.charge_saved_method(SavedMethodCharge(
            topup_id="top_1", amount=money.parse("10000"), currency="IDR", saved_method=saved, description="x"))
    with pytest.raises(OperationNotSupported):
        await offline.detach_payment_method(saved)
    with pytest.raises(OperationNotSupported):
        offline.verify_checkout_signature("top_1", "pay_1", "sig")
    assert not offline.saves_payment_methods


# --- failures --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [(503, {"status_code": "503", "status_message": "Service unavailable"}),
     (500, {"status_code": "500", "status_message": "Internal error"}),
     (200, {"status_code": "500", "status_message": "Internal error"}),
     (502, b"<html>bad gateway</html>")],
)
async def test_server_errors_are_transient(fake: FakeMidtrans, gateway: MidtransGateway, status: int, body) -> None:
    fake.fail_next(status, body, content_type="text/html" if isinstance(body, bytes) else "application/json")
    with pytest.raises(GatewayUnavailable):
        await gateway.fetch_status("top_x")


async def test_a_closed_port_and_a_stall_are_transient(fake: FakeMidtrans) -> None:
    with pytest.raises(GatewayUnavailable):
        await midtrans_gateway(closed_port_url()).create_checkout(checkout_request("150000", "IDR"))
    fake.stall_next(3)
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        await midtrans_gateway(fake.url, timeout=0.5).fetch_status("top_x")
    assert time.monotonic() - started < 2


async def test_a_wrong_server_key_is_refused(fake: FakeMidtrans) -> None:
    with pytest.raises(GatewayRefused):
        await midtrans_gateway(fake.url, server_key="SB-wrong").create_checkout(checkout_request("150000", "IDR"))
