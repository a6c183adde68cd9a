"""Invoice domain objects (no SQL, no HTTP). Amounts on an invoice are integers of the currency's minor units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from creditflow.config import Settings

DRAFT = "draft"
FINALIZED = "finalized"
PAID = "paid"
VOID = "void"


@dataclass(slots=True, frozen=True)
class LineInput:
    """A line as other domains pass it: `amount` in micro-units, like every amount in creditflow."""

    description: str
    amount: int


@dataclass(slots=True, frozen=True)
class TaxInput:
    """A tax on the whole invoice. `amount` (micro-units) records a tax already charged; None computes it."""

    name: str
    rate_percent: Decimal
    inclusive: bool = False
    amount: int | None = None


@dataclass(slots=True, frozen=True)
class Line:
    description: str
    amount: int


@dataclass(slots=True, frozen=True)
class TaxLine:
    name: str
    rate_percent: Decimal
    inclusive: bool
    amount: int


@dataclass(slots=True, frozen=True)
class Seller:
    name: str | None
    address: str | None
    tax_id: str | None
    email: str | None
    timezone: str


@dataclass(slots=True, frozen=True)
class Issuer:
    """Who issues invoices and how they are numbered: the seller's settings, read once per finalization."""

    seller: Seller
    number_prefix: str
    net_terms_days: int = 30
    """For customers without their own net_terms_days."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Issuer:
        seller = Seller(
            name=settings.seller_name, address=settings.seller_address, tax_id=settings.seller_tax_id,
            email=settings.seller_email, timezone=settings.seller_timezone,
        )
        return cls(
            seller=seller, number_prefix=settings.invoice_number_prefix, net_terms_days=settings.invoice_net_terms_days
        )


@dataclass(slots=True, frozen=True)
class Buyer:
    name: str | None
    email: str | None
    external_id: str
    metadata: dict[str, Any]


@dataclass(slots=True)
class Invoice:
    id: str
    customer_id: str
    currency: str
    status: str
    number: str | None
    description: str | None
    metadata: dict[str, Any]
    subtotal: int
    tax: int
    total: int
    seller: Seller | None
    buyer: Buyer | None
    paid_via: str | None
    payment_reference: str | None
    created_at: datetime
    updated_at: datetime
    finalized_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    lines: list[Line] = field(default_factory=list)
    amount_paid: int = 0
    tax_lines: list[TaxLine] = field(default_factory=list)
    due_at: datetime | None = None
    payment_overdue: bool = False
