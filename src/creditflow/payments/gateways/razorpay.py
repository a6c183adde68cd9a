"""Razorpay: orders paid through checkout.js, signed webhooks, payment-signature verification, refunds.

Razorpay has no hosted page for an order and no expire call: create_checkout returns the order id and
the public key_id for checkout.js, and expire() answers UNSUPPORTED (expire locally; a late payment
still arrives and is credited). Orders take no idempotency key, so create_checkout is never retried
here: after GatewayUnavailable the caller creates a new order (an unpaid order costs nothing).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import razorpay
import razorpay.errors

from creditflow import money
from creditflow.payments.gateways import amounts, blocking
from creditflow.payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    GatewayEvent,
    PaymentGateway,
    PaymentKind,
    PaymentStatus,
    RefundOutcome,
    RefundRequest,
    RefundResult,
)
from creditflow.payments.gateways.errors import (
    GatewayError,
    GatewayRefused,
    GatewayUnavailable,
    InvalidSignature,
    UnsupportedCurrency,
)
from creditflow.payments.gateways.signing import hmac_sha256_hex, lower_keys, matches_any

# X-Refund-Idempotency takes 10+ letters, digits, '-' and '_'.
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9_-]{10,}$")
_PAYMENT_EVENTS = {
    "payment.authorized": PaymentKind.PENDING,
    "payment.captured": PaymentKind.PAID,
    "payment.failed": PaymentKind.FAILED,
    "order.paid": PaymentKind.PAID,
    "payment.dispute.created": PaymentKind.DISPUTED,
}


class RazorpayGateway(PaymentGateway):
    name = "razorpay"

    def __init__(
        self,
        *,
        key_id: str,
        key_secret: str,
        webhook_secrets: Sequence[str],
        api_base: str | None = None,
        timeout: float = blocking.DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._key_id = key_id
        self._webhook_secrets = tuple(webhook_secrets)
        self._timeout = timeout
        options = {"base_url": api_base.rstrip("/")} if api_base else {}
        self._client = razorpay.Client(session=blocking.TimeoutSession(timeout), auth=(key_id, key_secret), **options)

    def to_minor(self, amount: int, currency: str) -> int:
        code = amounts.require_currency(self.name, currency, None)
        if not money.is_currency(code):
            raise UnsupportedCurrency(self.name, f"razorpay: {code} is not a known currency", param="currency")
        return amounts.to_minor(self.name, amount, code, exponent=money.display_scale(code))

    def from_minor(self, minor: int, currency: str) -> int:
        return amounts.from_minor(minor, exponent=money.display_scale(currency.upper()))

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        data = {
            "amount": self.to_minor(request.amount, request.currency),
            "currency": request.currency.upper(),
            "receipt": request.topup_id,
            # Notes values are capped at 256 characters.
            "notes": {"topup_id": request.topup_id, "description": request.description[:250]},
        }
        order = await self._call(lambda: self._client.order.create(data))
        return Checkout(
            gateway_reference=order["id"], checkout_url=None, publishable_key=self._key_id,
            expires_at=request.expires_at,
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        lowered = lower_keys(headers)
        signature = lowered.get("x-razorpay-signature")
        if not self._webhook_secrets:
            raise InvalidSignature(self.name, "no razorpay webhook secret is configured")
        if not signature:
            raise InvalidSignature(self.name, "the X-Razorpay-Signature header is missing")
        if not matches_any([hmac_sha256_hex(secret, body) for secret in self._webhook_secrets], signature):
            raise InvalidSignature(self.name, "X-Razorpay-Signature does not match the body")
        try:
            event = json.loads(body)
            event_type, payload = event["event"], event.get("payload") or {}
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature(self.name, "the signed body is not a Razorpay event") from None
        status = self._event_status(event_type, payload)
        created = event.get("created_at")
        return [GatewayEvent(
            gateway=self.name,
            event_key=_event_key(event_type, payload, body),
            event_type=event_type,
            status=status,
            occurred_at=datetime.fromtimestamp(created, UTC) if isinstance(created, int) else None,
            # Payment entities carry the order's notes only when checkout passed them: look the order up.
            needs_confirmation=status.kind is not PaymentKind.IGNORED and status.topup_id is None,
        )]

    async def confirm(self, event: GatewayEvent) -> GatewayEvent:
        order_id = event.status.gateway_reference
        if not event.needs_confirmation or not order_id:
            return event
        order = await self._call(lambda: self._client.order.fetch(order_id))
        topup_id = _topup_of(order)
        status = (
            replace(event.status, topup_id=topup_id) if topup_id
            else replace(event.status, kind=PaymentKind.IGNORED, raw_status=f"{event.status.raw_status}/not-a-topup")
        )
        return replace(event, status=status, needs_confirmation=False)

    async def fetch_status(self, reference: str) -> PaymentStatus:
        order = await self._call(lambda: self._client.order.fetch(reference))
        listing = await self._call(lambda: self._client.order.payments(reference))
        payments = listing.get("items") or []
        topup_id = _topup_of(order)
        settled = [p for p in payments if p.get("status") in ("captured", "refunded")]
        if settled:
            return self._payment_status(settled[0], PaymentKind.PAID, topup_id=topup_id)
        authorized = [p for p in payments if p.get("status") == "authorized"]
        if authorized:
            return self._payment_status(authorized[0], PaymentKind.PENDING, topup_id=topup_id)
        if payments and all(p.get("status") == "failed" for p in payments):
            return self._payment_status(payments[-1], PaymentKind.FAILED, topup_id=topup_id)
        return PaymentStatus(
            kind=PaymentKind.PENDING, raw_status=order.get("status") or "created", topup_id=topup_id,
            gateway_reference=order.get("id"), amount=self.from_minor(order["amount"], order["currency"]),
            currency=order["currency"],
        )

    async def refund(self, request: RefundRequest) -> RefundResult:
        amount = self.to_minor(request.amount, request.currency)
        payment_id = request.payment_id or (await self.fetch_status(request.gateway_reference)).payment_id
        if not payment_id:
            return RefundResult(outcome=RefundOutcome.REFUSED, message="the order has no captured payment")
        key = request.idempotency_key
        if not _IDEMPOTENCY_KEY.match(key):
            key = hashlib.sha256(key.encode()).hexdigest()
        data: dict[str, Any] = {"amount": amount, "receipt": request.idempotency_key[:40]}
        if request.reason:
            data["notes"] = {"reason": request.reason[:250]}
        try:
            refund = await self._call(
                lambda: self._client.payment.refund(payment_id, data, headers={"X-Refund-Idempotency": key})
            )
        except GatewayRefused as refusal:
            return RefundResult(outcome=RefundOutcome.REFUSED, message=refusal.message)
        if refund.get("status") == "failed":
            return RefundResult(outcome=RefundOutcome.REFUSED, refund_id=refund.get("id"), message="refund failed")
        return RefundResult(outcome=RefundOutcome.REFUNDED, refund_id=refund.get("id"))

    def verify_checkout_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        """checkout.js's result: HMAC-SHA256(key_secret, order_id|payment_id). Take order_id from our own row."""
        params = {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id, "razorpay_signature": signature}
        try:
            self._client.utility.verify_payment_signature(params)
        except (razorpay.errors.SignatureVerificationError, TypeError):
            # TypeError: the SDK's compare_digest refuses a non-ASCII signature, which is a forgery too.
            raise InvalidSignature(self.name, "the checkout signature does not match this order and payment") from None

    # --- mapping -----------------------------------------------------------------------------------

    def _event_status(self, event_type: str, payload: dict[str, Any]) -> PaymentStatus:
        payment = (payload.get("payment") or {}).get("entity") or {}
        order = (payload.get("order") or {}).get("entity") or {}
        if event_type in _PAYMENT_EVENTS and payment:
            return self._payment_status(payment, _PAYMENT_EVENTS[event_type], topup_id=_topup_of(order))
        if event_type == "refund.processed" and payment:
            return self._payment_status(payment, PaymentKind.PAID, topup_id=_topup_of(order))
        refund = (payload.get("refund") or {}).get("entity") or {}
        if event_type == "refund.failed" and payment:
            failed = self._payment_status(payment, PaymentKind.REFUND_FAILED, topup_id=_topup_of(order))
            return replace(failed, raw_status=event_type, refund_id=refund.get("receipt") or refund.get("id"))
        return PaymentStatus(
            kind=PaymentKind.IGNORED, raw_status=event_type, payment_id=payment.get("id") or refund.get("payment_id"),
        )

    def _payment_status(self, payment: dict[str, Any], kind: PaymentKind, *, topup_id: str | None) -> PaymentStatus:
        currency = payment.get("currency") or "INR"
        refunded = self.from_minor(payment.get("amount_refunded") or 0, currency)
        raw = payment.get("status") or "unknown"
        if kind is PaymentKind.PAID and refunded:
            full = payment.get("refund_status") == "full" or raw == "refunded"
            kind = PaymentKind.REFUNDED if full else PaymentKind.PARTIALLY_REFUNDED
            raw = f"refund_{payment.get('refund_status') or 'partial'}"
        elif kind is PaymentKind.FAILED:
            raw = payment.get("error_code") or raw
        return PaymentStatus(
            kind=kind,
            raw_status=raw,
            topup_id=topup_id or (payment.get("notes") or {}).get("topup_id") or None,
            gateway_reference=payment.get("order_id"),
            payment_id=payment.get("id"),
            amount=self.from_minor(payment["amount"], currency) if payment.get("amount") is not None else None,
            amount_refunded=refunded,
            currency=currency.upper(),
            payment_method=payment.get("method"),
        )

    async def _call(self, function: Any) -> Any:
        return await blocking.call(self.name, function, deadline=self._timeout, translate=self._translate)

    def _translate(self, exc: Exception) -> GatewayError | None:
        if isinstance(exc, razorpay.errors.BadRequestError):
            return GatewayRefused(self.name, f"Razorpay refused the request: {exc}")
        if isinstance(exc, (razorpay.errors.ServerError, razorpay.errors.GatewayError)):
            return GatewayUnavailable(self.name, f"Razorpay is unavailable: {exc}")
        return blocking.network_error(self.name, exc)


def _topup_of(order: dict[str, Any]) -> str | None:
    return (order.get("notes") or {}).get("topup_id") or order.get("receipt") or None


def _event_key(event_type: str, payload: dict[str, Any], body: bytes) -> str:
    """What deduplicates a delivery: only what the signature covers, never the X-Razorpay-Event-Id header
    (anyone replaying a signed body could change it). The event and its entities' ids name one event;
    a body without entity ids is keyed by its hash."""
    ids = sorted(
        f"{name}={wrapper['entity']['id']}"
        for name, wrapper in payload.items()
        if isinstance(wrapper, dict) and isinstance(wrapper.get("entity"), dict) and wrapper["entity"].get("id")
    )
    if not ids:
        return hashlib.sha256(body).hexdigest()
    return f"{event_type}:{','.join(ids)}"
