"""Top-up domain objects (no SQL, no HTTP). Money is micro-units of `currency`; credits of `credit_unit`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

PENDING = "pending"
PAID = "paid"
FAILED = "failed"
EXPIRED = "expired"
PARTIALLY_REFUNDED = "partially_refunded"
REFUNDED = "refunded"
REFUND_MANUAL = "refund_manual"
DISPUTED = "disputed"

UNPAID = (PENDING, FAILED, EXPIRED)
"""A payment may still arrive: failed and expired orders are credited if it does (never dropped)."""
CREDITED = (PAID, PARTIALLY_REFUNDED, REFUNDED, REFUND_MANUAL, DISPUTED)
REFUNDABLE = (PAID, PARTIALLY_REFUNDED)


@dataclass(slots=True, frozen=True)
class Package:
    id: str
    name: str
    price: int
    currency: str
    credits: int
    credit_unit: str
    bonus_credits: int | None
    status: str
    created_at: datetime
    archived_at: datetime | None


@dataclass(slots=True, frozen=True)
class Credit:
    """What a paid top-up gave: its paid grant, its bonus grant, and the invoice marked paid."""

    paid_grant_id: str
    bonus_grant_id: str | None
    invoice_id: str


@dataclass(slots=True, frozen=True)
class Topup:
    id: str
    customer_id: str
    package_id: str | None
    gateway: str
    status: str
    currency: str
    amount: int
    subtotal: int
    tax: int
    total: int
    tax_name: str | None
    tax_rate: str | None
    tax_inclusive: bool | None
    credit_unit: str
    credits: int
    bonus_credits: int
    description: str
    gateway_reference: str | None
    checkout_url: str | None
    checkout_token: str | None
    publishable_key: str | None
    return_url: str | None
    expires_at: datetime
    payment_id: str | None
    payment_method: str | None
    amount_refunded: int
    disputed_debt: int
    failure_reason: str | None
    review_reason: str | None
    checked_at: datetime | None
    paid_at: datetime | None
    created_at: datetime
    updated_at: datetime
    save_payment_method: bool
    payment_method_id: str | None
    """The saved method this top-up charged off-session, or the one its checkout saved."""
    charge_key: str | None
    credit: Credit | None = None


@dataclass(slots=True, frozen=True)
class Refund:
    id: str
    topup_id: str
    amount: int
    credits: int
    bonus_credits: int
    hold_id: str | None
    status: str
    gateway_refund_id: str | None
    message: str | None
    created_at: datetime
    updated_at: datetime
