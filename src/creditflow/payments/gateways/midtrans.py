"""Midtrans (Indonesia, IDR): Snap checkout, notifications, the Status API, expire and refund.

A notification's signature, sha512(order_id + status_code + gross_amount + server_key), does not
cover transaction_status, so every event is marked needs_confirmation and confirm() replaces its
status with what the Status API says now. That also makes out-of-order notifications harmless: a
late `pending` confirmed after `settlement` reads as paid.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import midtransclient

from creditflow import money
from creditflow.clock import Clock, SystemClock
from creditflow.payments.gateways import amounts, blocking
from creditflow.payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    ExpireOutcome,
    ExpireResult,
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
)
from creditflow.payments.gateways.signing import same

WIB = timezone(timedelta(hours=7), "WIB")  # Midtrans reads and writes times in Jakarta time
# Midtrans refunds these through its API; bank transfers (virtual accounts) and convenience stores it cannot.
REFUNDABLE_TYPES = frozenset({"credit_card", "gopay", "shopeepay", "dana", "ovo", "qris", "kredivo", "akulaku"})
_REFUND_KEY = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
_KINDS = {
    "settlement": PaymentKind.PAID,
    "pending": PaymentKind.PENDING,
    "authorize": PaymentKind.PENDING,
    "deny": PaymentKind.FAILED,
    "cancel": PaymentKind.FAILED,
    "failure": PaymentKind.FAILED,
    "expire": PaymentKind.EXPIRED,
    "refund": PaymentKind.REFUNDED,
    "partial_refund": PaymentKind.PARTIALLY_REFUNDED,
    "chargeback": PaymentKind.DISPUTED,
    "partial_chargeback": PaymentKind.DISPUTED,
}
_CAPTURE_BY_FRAUD = {"accept": PaymentKind.PAID, "challenge": PaymentKind.PENDING, "deny": PaymentKind.FAILED}


class MidtransGateway(PaymentGateway):
    name = "midtrans"

    def __init__(
        self,
        *,
        server_key: str,
        client_key: str | None = None,
        production: bool = False,
        snap_base: str | None = None,
        core_base: str | None = None,
        clock: Clock | None = None,
        timeout: float = blocking.DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._server_key = server_key
        self._client_key = client_key
        self._clock = clock or SystemClock()
        self._timeout = timeout
        self._snap = midtransclient.Snap(is_production=production, server_key=server_key, client_key=client_key or "")
        # The SDK calls the requests module with no timeout and has no base-URL option: set both on the instance.
        self._snap.http_client.http_client = blocking.TimeoutSession(timeout)
        config = self._snap.api_config
        if snap_base:
            config.SNAP_SANDBOX_BASE_URL = config.SNAP_PRODUCTION_BASE_URL = snap_base.rstrip("/") + "/snap/v1"
        if core_base:
            config.CORE_SANDBOX_BASE_URL = config.CORE_PRODUCTION_BASE_URL = core_base.rstrip("/")

    def to_minor(self, amount: int, currency: str) -> int:
        code = amounts.require_currency(self.name, currency, frozenset({"IDR"}))
        return amounts.to_minor(self.name, amount, code, exponent=0)

    def from_minor(self, minor: int, currency: str) -> int:
        return amounts.from_minor(minor, exponent=0)

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        gross = self.to_minor(request.amount, request.currency)
        now = self._clock.now()
        minutes = max(1, int((request.expires_at - now).total_seconds() // 60))
        first, _, last = (request.customer_name or "").strip().partition(" ")
        customer = {"first_name": first, "last_name": last, "email": request.customer_email}
        body: dict[str, Any] = {
            "transaction_details": {"order_id": request.topup_id, "gross_amount": gross},
            # Item names are capped at 50 characters, and the items must add up to gross_amount.
            "item_details": [{"id": request.topup_id, "price": gross, "quantity": 1, "name": request.description[:50]}],
            "customer_details": {key: value for key, value in customer.items() if value},
            "expiry": {"start_time": now.astimezone(WIB).strftime("%Y-%m-%d %H:%M:%S %z"), "unit": "minute",
                       "duration": minutes},
        }
        if request.return_url:
            body["callbacks"] = {"finish": request.return_url}
        result = await self._call(lambda: self._snap.create_transaction(body))
        return Checkout(
            gateway_reference=request.topup_id,
            checkout_url=result.get("redirect_url"),
            token=result.get("token"),
            publishable_key=self._client_key,
            expires_at=now + timedelta(minutes=minutes),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        try:
            notification = json.loads(body)
            signed = [notification[field] for field in ("order_id", "status_code", "gross_amount")]
            signature = notification["signature_key"]
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature(self.name, "the body is not a Midtrans notification") from None
        if not all(isinstance(part, str) for part in [*signed, signature]):
            raise InvalidSignature(self.name, "signed fields must be strings")
        expected = hashlib.sha512(("".join(signed) + self._server_key).encode()).hexdigest()
        if not same(expected, signature.lower()):
            raise InvalidSignature(self.name, "signature_key does not match order_id, status_code and gross_amount")
        return [GatewayEvent(
            gateway=self.name,
            # Two partial refunds differ only in amounts, so the body itself is the event's identity.
            event_key=hashlib.sha256(body).hexdigest(),
            event_type=str(notification.get("transaction_status")),
            status=self._transaction_status(notification),
            occurred_at=_wib_time(notification.get("settlement_time") or notification.get("transaction_time")),
            needs_confirmation=True,
        )]

    async def confirm(self, event: GatewayEvent) -> GatewayEvent:
        if not event.needs_confirmation:
            return event
        status = await self.fetch_status(event.status.gateway_reference or "")
        return replace(event, status=status, needs_confirmation=False)

    async def fetch_status(self, reference: str) -> PaymentStatus:
        try:
            transaction = await self._call(lambda: self._snap.transactions.status(reference))
        except GatewayRefused as refusal:
            if refusal.details and refusal.details.get("status") == 404:
                # Snap answers 404 until the customer picks a payment method: nothing to pay yet.
                return PaymentStatus(
                    kind=PaymentKind.PENDING, raw_status="not_found", topup_id=reference, gateway_reference=reference,
                )
            raise
        return self._transaction_status(transaction)

    async def expire(self, reference: str) -> ExpireResult:
        try:
            transaction = await self._call(lambda: self._snap.transactions.expire(reference))
        except GatewayRefused as refusal:
            if refusal.details and refusal.details.get("status") == 404:
                return ExpireResult(
                    outcome=ExpireOutcome.UNSUPPORTED,
                    message="no payment method chosen yet at Midtrans; the Snap link lapses at its own expiry",
                )
            status = await self.fetch_status(reference)
            outcome = ExpireOutcome.EXPIRED if status.kind is PaymentKind.EXPIRED else ExpireOutcome.NOT_EXPIRABLE
            return ExpireResult(outcome=outcome, status=status, message=refusal.message)
        return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=self._transaction_status(transaction))

    async def refund(self, request: RefundRequest) -> RefundResult:
        amount = self.to_minor(request.amount, request.currency)
        status = await self.fetch_status(request.gateway_reference)
        if status.kind not in (PaymentKind.PAID, PaymentKind.PARTIALLY_REFUNDED):
            return RefundResult(outcome=RefundOutcome.REFUSED, message=f"the transaction is {status.raw_status}")
        if status.payment_method not in REFUNDABLE_TYPES:
            return RefundResult(
                outcome=RefundOutcome.MANUAL,
                message=f"Midtrans cannot refund {status.payment_method} payments through its API; refund by hand",
            )
        key = request.idempotency_key
        if not _REFUND_KEY.match(key):
            key = hashlib.sha256(key.encode()).hexdigest()[:50]
        data = {"refund_key": key, "amount": amount, "reason": request.reason or "refund"}
        try:
            result = await self._call(lambda: self._snap.transactions.refund(request.gateway_reference, data))
        except GatewayRefused as refusal:
            return RefundResult(outcome=RefundOutcome.REFUSED, message=refusal.message)
        return RefundResult(outcome=RefundOutcome.REFUNDED, refund_id=str(result.get("refund_chargeback_id") or key))

    def _transaction_status(self, transaction: dict[str, Any]) -> PaymentStatus:
        state = str(transaction.get("transaction_status"))
        fraud = transaction.get("fraud_status")
        if state == "capture":
            kind = _CAPTURE_BY_FRAUD.get(fraud or "accept", PaymentKind.PENDING)
            raw = f"capture/{fraud}" if fraud else state
        else:
            kind, raw = _KINDS.get(state, PaymentKind.IGNORED), state
        order_id = transaction.get("order_id")
        return PaymentStatus(
            kind=kind,
            raw_status=raw,
            topup_id=order_id,
            gateway_reference=order_id,
            payment_id=transaction.get("transaction_id"),
            amount=_micros(transaction.get("gross_amount")),
            amount_refunded=_micros(transaction.get("refund_amount")) or 0,
            currency=str(transaction.get("currency") or "IDR").upper(),
            payment_method=transaction.get("payment_type"),
        )

    async def _call(self, function: Any) -> Any:
        return await blocking.call(self.name, function, deadline=self._timeout, translate=self._translate)

    def _translate(self, exc: Exception) -> GatewayError | None:
        if isinstance(exc, midtransclient.MidtransAPIError):
            # The Core API may answer HTTP 200 with an error status_code in the body; the body wins.
            body = exc.api_response_dict if isinstance(exc.api_response_dict, dict) else {}
            text = str(body.get("status_code") or "")
            status = int(text) if text.isdigit() else exc.http_status_code
            message = body.get("status_message") or body.get("error_messages") or exc.message
            if status >= 500 or status == 429:
                return GatewayUnavailable(self.name, f"Midtrans is unavailable: {message}", status=status)
            return GatewayRefused(self.name, f"Midtrans refused the request: {message}", status=status)
        if isinstance(exc, midtransclient.JSONDecodeError):
            return GatewayUnavailable(self.name, f"Midtrans answered with something that is not JSON: {exc}")
        return blocking.network_error(self.name, exc)


def _micros(text: Any) -> int | None:
    if not isinstance(text, str | int) or isinstance(text, bool):
        return None
    try:
        return money.parse(str(text))
    except money.MoneyError:
        return None


def _wib_time(text: Any) -> datetime | None:
    try:
        return datetime.strptime(str(text), "%Y-%m-%d %H:%M:%S").replace(tzinfo=WIB)
    except ValueError:
        return None
