"""The built-in sandbox gateway: no account anywhere, so `creditflow serve` can run a whole top-up.

create_checkout returns a page on this server, `/sandbox/checkout/{topup_id}?token=...` (served by
payments/sandbox_pages.py). The token carries the order (amount, currency, expiry, return URL) signed
with the sandbox secret, so any process on the same database can serve the page without shared state.
Pressing Pay or Fail sends this server a notification, signed like Stripe's (`t=<unix>,v1=<hex>` over
"<t>." + body, header Creditflow-Sandbox-Signature) with the same secret, to POST /v1/webhooks/sandbox.

Outcomes pressed, expiries and refunds are remembered in this process only (fetch_status, expire and
refund read them), which is all a trial needs; money never moves.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from creditflow import money
from creditflow.clock import Clock, SystemClock
from creditflow.payments.gateways import amounts
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
from creditflow.payments.gateways.errors import InvalidSignature
from creditflow.payments.gateways.signing import hmac_sha256_hex, lower_keys, same, sign_timestamped, verify_timestamped

SIGNATURE_HEADER = "Creditflow-Sandbox-Signature"
WEBHOOK_PATH = "/v1/webhooks/sandbox"
Outcome = Literal["paid", "failed"]


@dataclass(frozen=True, kw_only=True)
class SandboxOrder:
    """What a checkout token carries: everything the page shows and the notification reports."""

    topup_id: str
    amount: int
    currency: str
    description: str
    expires_at: datetime
    return_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class SandboxNotification:
    """A signed notification, ready to POST to /v1/webhooks/sandbox."""

    body: bytes
    headers: dict[str, str]


class SandboxGateway(PaymentGateway):
    name = "sandbox"

    def __init__(self, *, secret: str, public_url: str, clock: Clock | None = None) -> None:
        if not secret:
            raise ValueError("the sandbox gateway needs a secret")
        self._secret = secret
        self._public_url = public_url.rstrip("/")
        self._clock = clock or SystemClock()
        self._statuses: dict[str, PaymentStatus] = {}

    def to_minor(self, amount: int, currency: str) -> int:
        code = amounts.require_currency(self.name, currency, None)
        return amounts.to_minor(self.name, amount, code, exponent=money.display_scale(code))

    def from_minor(self, minor: int, currency: str) -> int:
        return amounts.from_minor(minor, exponent=money.display_scale(currency.upper()))

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        self.check_amount(request.amount, request.currency)
        order = SandboxOrder(
            topup_id=request.topup_id, amount=request.amount, currency=request.currency.upper(),
            description=request.description, expires_at=request.expires_at, return_url=request.return_url,
        )
        token = self.checkout_token(order)
        return Checkout(
            gateway_reference=request.topup_id,
            checkout_url=f"{self._public_url}/sandbox/checkout/{request.topup_id}?token={token}",
            token=token,
            expires_at=request.expires_at,
        )

    # --- the checkout page's side ------------------------------------------------------------------

    def checkout_token(self, order: SandboxOrder) -> str:
        fields = {
            "t": order.topup_id, "a": order.amount, "c": order.currency, "d": order.description,
            "e": int(order.expires_at.timestamp()), "r": order.return_url,
        }
        payload = base64.urlsafe_b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode().rstrip("=")
        return f"{payload}.{hmac_sha256_hex(self._secret, b'checkout.' + payload.encode())}"

    def read_checkout_token(self, topup_id: str, token: str) -> SandboxOrder:
        """The order a token carries, if this server signed it for this top-up; InvalidSignature otherwise."""
        payload, _, signature = token.partition(".")
        if not same(hmac_sha256_hex(self._secret, b"checkout." + payload.encode()), signature):
            raise InvalidSignature(self.name, "this checkout link was not issued by this server")
        fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        if fields["t"] != topup_id:
            raise InvalidSignature(self.name, "this checkout link belongs to another top-up")
        return SandboxOrder(
            topup_id=fields["t"], amount=fields["a"], currency=fields["c"], description=fields["d"],
            expires_at=datetime.fromtimestamp(fields["e"], UTC), return_url=fields["r"],
        )

    def why_not_payable(self, order: SandboxOrder) -> str | None:
        """None if the page may take a payment now; otherwise the reason, for the customer."""
        status = self._statuses.get(order.topup_id)
        if status and status.kind is PaymentKind.PAID:
            return "This top-up is already paid."
        if (status and status.kind is PaymentKind.EXPIRED) or self._clock.now() >= order.expires_at:
            return "This checkout has expired."
        return None

    def build_notification(self, order: SandboxOrder, outcome: Outcome) -> SandboxNotification:
        now = int(self._clock.now().timestamp())
        body = json.dumps({
            # One id per top-up and outcome: pressing Pay twice delivers one event.
            "id": f"sbx_evt_{outcome}_{order.topup_id}",
            "type": f"payment.{outcome}",
            "topup_id": order.topup_id,
            "payment_id": f"sbx_pay_{order.topup_id}",
            "amount": money.format(order.amount, order.currency),
            "currency": order.currency,
            "created": now,
        }, separators=(",", ":")).encode()
        headers = {"Content-Type": "application/json", SIGNATURE_HEADER: sign_timestamped(self._secret, body, now)}
        return SandboxNotification(body=body, headers=headers)

    def record_outcome(self, order: SandboxOrder, outcome: Outcome) -> None:
        """Remember a delivered outcome, so fetch_status and refund know about it."""
        self._statuses[order.topup_id] = self._status(
            order.topup_id, PaymentKind.PAID if outcome == "paid" else PaymentKind.FAILED, outcome,
            amount=order.amount, currency=order.currency,
        )

    # --- the gateway interface ---------------------------------------------------------------------

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        verify_timestamped(
            self.name, body, lower_keys(headers).get(SIGNATURE_HEADER.lower()), [self._secret], self._clock.now()
        )
        try:
            event = json.loads(body)
            kind = {"payment.paid": PaymentKind.PAID, "payment.failed": PaymentKind.FAILED}[event["type"]]
            status = self._status(
                event["topup_id"], kind, event["type"].removeprefix("payment."),
                amount=money.parse(event["amount"]), currency=event["currency"],
            )
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature(self.name, "the signed body is not a sandbox notification") from None
        return [GatewayEvent(
            gateway=self.name, event_key=event["id"], event_type=event["type"], status=status,
            occurred_at=datetime.fromtimestamp(event["created"], UTC),
        )]

    async def fetch_status(self, reference: str) -> PaymentStatus:
        return self._statuses.get(reference) or self._status(reference, PaymentKind.PENDING, "open")

    async def expire(self, reference: str) -> ExpireResult:
        status = await self.fetch_status(reference)
        if status.kind is PaymentKind.PAID:
            return ExpireResult(outcome=ExpireOutcome.NOT_EXPIRABLE, status=status)
        self._statuses[reference] = self._status(reference, PaymentKind.EXPIRED, "expired")
        return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=self._statuses[reference])

    async def refund(self, request: RefundRequest) -> RefundResult:
        self.check_amount(request.amount, request.currency)
        status = await self.fetch_status(request.gateway_reference)
        if status.kind not in (PaymentKind.PAID, PaymentKind.PARTIALLY_REFUNDED) and status.raw_status != "open":
            return RefundResult(outcome=RefundOutcome.REFUSED, message=f"the sandbox payment is {status.raw_status}")
        # A payment made through another process is unknown here ("open"): a trial refund is still accepted.
        return RefundResult(outcome=RefundOutcome.REFUNDED, refund_id=f"sbx_re_{request.idempotency_key}")

    def _status(
        self, topup_id: str, kind: PaymentKind, raw: str, *, amount: int | None = None, currency: str | None = None
    ) -> PaymentStatus:
        return PaymentStatus(
            kind=kind, raw_status=raw, topup_id=topup_id, gateway_reference=topup_id,
            payment_id=f"sbx_pay_{topup_id}" if kind is PaymentKind.PAID else None,
            amount=amount, currency=currency, payment_method="sandbox",
        )
