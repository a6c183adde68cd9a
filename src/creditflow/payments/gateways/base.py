"""The one interface every payment gateway adapter implements, and the values that cross it.

No database here: the top-ups domain owns orders, the webhook inbox and crediting, and calls this
layer outside any transaction. All amounts crossing the interface are creditflow micro-units (int,
6 decimals, see money.py); each adapter converts to and from its gateway's minor units and refuses,
never rounds, what does not fit (UnsupportedAmount, a 422).

How the top-ups domain uses a gateway (`registry.get(name)`):

    gateway.check_amount(amount, currency)              # 422 early, before the top-up row exists
    checkout = await gateway.create_checkout(CheckoutRequest(topup_id=..., amount=..., ...))
        -> Checkout(gateway_reference, checkout_url, token, publishable_key, expires_at)
        The top-up id is reused as Midtrans order_id, Razorpay receipt, Stripe client_reference_id
        and idempotency key. Store gateway_reference: every later call takes it.

    events = gateway.parse_webhook(raw_body, request.headers)   # InvalidSignature -> 400, nothing stored
    for event in events:
        event = await gateway.confirm(event)   # network call when event.needs_confirmation (Midtrans
                                               # Status API); do it BEFORE the inbox row commits
        # inbox unique on (gateway.name, event.event_key); event.status.topup_id names the top-up
        # (None only for events that are not ours, kind IGNORED); compare status.amount and currency.

    status = await gateway.fetch_status(gateway_reference)      # reconciliation job, Razorpay verify
    result = await gateway.expire(gateway_reference)            # EXPIRED | UNSUPPORTED | NOT_EXPIRABLE
    result = await gateway.refund(RefundRequest(...))           # REFUNDED | REFUSED | MANUAL
    status = await gateway.charge_saved_method(SavedMethodCharge(...))   # Stripe off-session (auto top-up)
    await gateway.detach_payment_method(saved_method)                    # the card can no longer be charged
    gateway.verify_checkout_signature(order_id, payment_id, signature)   # Razorpay client-side checkout

Every network method raises GatewayUnavailable on a transient failure (connection, timeout, 5xx, 429)
and GatewayRefused when the gateway said no; parse_webhook and verify_checkout_signature raise
InvalidSignature. A PaymentStatus is the same value whether it came from a webhook, a status read or
a charge, so the domain applies all three through one code path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from creditflow.payments.gateways.errors import OperationNotSupported


class PaymentKind(StrEnum):
    """Where a payment stands, in creditflow's words. IGNORED: an event we do not act on."""

    PAID = "paid"
    FAILED = "failed"
    EXPIRED = "expired"
    PENDING = "pending"
    REFUNDED = "refunded"
    PARTIALLY_REFUNDED = "partially_refunded"
    DISPUTED = "disputed"
    REFUND_FAILED = "refund_failed"
    """A refund the gateway had accepted failed afterwards (Razorpay refund.failed): the money was not returned."""
    IGNORED = "ignored"


@dataclass(frozen=True, kw_only=True)
class CheckoutRequest:
    topup_id: str
    amount: int
    """Micro-units of `currency`, tax included: what the customer pays."""
    currency: str
    description: str
    expires_at: datetime
    return_url: str | None = None
    customer_name: str | None = None
    customer_email: str | None = None
    save_payment_method: bool = False
    """Stripe: keep the card for later off-session charges (auto top-up); ignored elsewhere."""
    gateway_customer: str | None = None
    """Stripe customer id from an earlier saved method, so every saved card sits on one customer."""


@dataclass(frozen=True, kw_only=True)
class Checkout:
    gateway_reference: str
    """Stripe Checkout Session id, Razorpay order id, Midtrans order_id, sandbox top-up id."""
    checkout_url: str | None
    """Where to send the customer; None for Razorpay, whose checkout.js opens with the order id."""
    token: str | None = None
    """Midtrans Snap token (for snap.js); the sandbox checkout token."""
    publishable_key: str | None = None
    """Public key the browser needs: Razorpay key_id, Midtrans client key."""
    expires_at: datetime
    """When the gateway stops taking payment (Stripe clamps to its 30 min - 24 h window)."""


@dataclass(frozen=True, kw_only=True)
class SavedPaymentMethod:
    customer: str
    """The gateway's customer the method is attached to (Stripe cus_...)."""
    payment_method: str
    """The gateway's id of the method (Stripe pm_...)."""
    brand: str | None = None
    """Card details, where the gateway showed them: what a customer recognises a saved card by."""
    last4: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True, kw_only=True)
class PaymentStatus:
    kind: PaymentKind
    raw_status: str
    """The gateway's own word: 'settlement', 'captured', 'complete/paid', 'card_declined', ..."""
    topup_id: str | None = None
    gateway_reference: str | None = None
    payment_id: str | None = None
    """Midtrans transaction_id, Razorpay pay_..., Stripe PaymentIntent id: what a refund needs."""
    amount: int | None = None
    """Micro-units of the payment (paid, or asked for while pending)."""
    amount_refunded: int = 0
    """Micro-units refunded so far (cumulative, so replays and reordering converge)."""
    currency: str | None = None
    payment_method: str | None = None
    """The gateway's payment type: card, upi, bank_transfer, gopay, ..."""
    saved_method: SavedPaymentMethod | None = None
    refund_id: str | None = None
    """The refund this status is about (REFUND_FAILED): creditflow's refund id where the gateway echoes it back
    (Razorpay's receipt), otherwise the gateway's own refund id."""


@dataclass(frozen=True, kw_only=True)
class GatewayEvent:
    gateway: str
    event_key: str
    """Unique per delivery-worthy event: Stripe event id, Razorpay x-razorpay-event-id, SHA-256 of a
    Midtrans body (two partial refunds differ only in their amounts), sandbox event id."""
    event_type: str
    status: PaymentStatus
    occurred_at: datetime | None = None
    needs_confirmation: bool = False
    """confirm() will call the gateway: the signature does not cover the status (Midtrans) or the
    notification does not name the top-up."""


@dataclass(frozen=True, kw_only=True)
class RefundRequest:
    gateway_reference: str
    payment_id: str | None
    amount: int
    """Micro-units to refund now (not cumulative)."""
    currency: str
    idempotency_key: str
    """Stable per refund attempt; the gateway refunds once however often it is retried (10+ chars)."""
    reason: str | None = None


class RefundOutcome(StrEnum):
    REFUNDED = "refunded"
    """The gateway accepted the refund (it may still settle later)."""
    REFUSED = "refused"
    MANUAL = "manual"
    """The gateway cannot refund this payment through its API (Midtrans virtual accounts)."""


@dataclass(frozen=True, kw_only=True)
class RefundResult:
    outcome: RefundOutcome
    refund_id: str | None = None
    message: str | None = None


class ExpireOutcome(StrEnum):
    EXPIRED = "expired"
    UNSUPPORTED = "unsupported"
    """The gateway has nothing to expire (Razorpay orders; a Midtrans Snap no method was chosen for):
    expire locally; a late payment still arrives as an event and is credited."""
    NOT_EXPIRABLE = "not_expirable"
    """Too late: the payment completed or failed meanwhile; `status` says how."""


@dataclass(frozen=True, kw_only=True)
class ExpireResult:
    outcome: ExpireOutcome
    status: PaymentStatus | None = None
    message: str | None = None


@dataclass(frozen=True, kw_only=True)
class SavedMethodCharge:
    topup_id: str
    amount: int
    currency: str
    saved_method: SavedPaymentMethod
    description: str


class PaymentGateway(ABC):
    name: ClassVar[str]
    saves_payment_methods: ClassVar[bool] = False
    """Whether a checkout can keep the payment method for off-session charges (CheckoutRequest.save_payment_method)."""

    @abstractmethod
    def to_minor(self, amount: int, currency: str) -> int:
        """Micro-units as this gateway's minor units; UnsupportedAmount or UnsupportedCurrency if impossible."""

    @abstractmethod
    def from_minor(self, minor: int, currency: str) -> int:
        """This gateway's minor units as micro-units."""

    def check_amount(self, amount: int, currency: str) -> None:
        """Raise the 422 create_checkout would raise, without calling the gateway."""
        self.to_minor(amount, currency)

    @abstractmethod
    async def create_checkout(self, request: CheckoutRequest) -> Checkout: ...

    @abstractmethod
    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        """Verify the signature on the raw bytes, then normalize. Raises InvalidSignature."""

    async def confirm(self, event: GatewayEvent) -> GatewayEvent:
        """The event as the gateway's API confirms it; unchanged unless needs_confirmation."""
        return event

    @abstractmethod
    async def fetch_status(self, reference: str) -> PaymentStatus: ...

    async def expire(self, reference: str) -> ExpireResult:
        return ExpireResult(outcome=ExpireOutcome.UNSUPPORTED, message=f"{self.name} has no expire call")

    @abstractmethod
    async def refund(self, request: RefundRequest) -> RefundResult: ...

    async def charge_saved_method(self, request: SavedMethodCharge) -> PaymentStatus:
        raise OperationNotSupported(self.name, f"{self.name} cannot charge a saved payment method")

    async def detach_payment_method(self, method: SavedPaymentMethod) -> None:
        """Remove a saved method at the gateway, so it can never be charged again; done already is done."""
        raise OperationNotSupported(self.name, f"{self.name} keeps no saved payment methods")

    def verify_checkout_signature(self, order_id: str, payment_id: str, signature: str) -> None:
        raise OperationNotSupported(self.name, f"{self.name} has no client-side checkout signature")
