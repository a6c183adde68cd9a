"""Invoice response bodies: amounts as exact decimal strings at the currency's display scale."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from creditflow.invoices.models import Buyer, Invoice, Line, Seller, TaxLine
from creditflow.invoices.totals import format_minor, rate_text


class LineOut(BaseModel):
    description: str
    amount: str

    @classmethod
    def of(cls, line: Line, currency: str) -> LineOut:
        return cls(description=line.description, amount=format_minor(line.amount, currency))


class TaxLineOut(BaseModel):
    name: str
    rate_percent: str = Field(description="Percent: \"11\" is 11%.")
    inclusive: bool = Field(description="True: the amount is the part already included in the lines.")
    amount: str

    @classmethod
    def of(cls, tax: TaxLine, currency: str) -> TaxLineOut:
        return cls(
            name=tax.name, rate_percent=rate_text(tax.rate_percent), inclusive=tax.inclusive,
            amount=format_minor(tax.amount, currency),
        )


class SellerOut(BaseModel):
    name: str | None
    address: str | None
    tax_id: str | None
    email: str | None
    timezone: str

    @classmethod
    def of(cls, seller: Seller) -> SellerOut:
        return cls(
            name=seller.name, address=seller.address, tax_id=seller.tax_id, email=seller.email,
            timezone=seller.timezone,
        )


class BuyerOut(BaseModel):
    name: str | None
    email: str | None
    external_id: str
    metadata: dict[str, Any]

    @classmethod
    def of(cls, buyer: Buyer) -> BuyerOut:
        return cls(name=buyer.name, email=buyer.email, external_id=buyer.external_id, metadata=buyer.metadata)


class InvoiceOut(BaseModel):
    object: Literal["invoice"] = "invoice"
    id: str
    number: str | None = Field(description="Given at finalization; a draft has none.")
    status: Literal["draft", "finalized", "paid", "void"]
    customer: str
    currency: str
    description: str | None
    lines: list[LineOut]
    tax_lines: list[TaxLineOut]
    subtotal: str = Field(description="The lines net of tax.")
    tax: str
    total: str = Field(description="subtotal + tax.")
    amount_due: str = Field(description="What is still to be collected: 0 once paid, and for drafts and voids.")
    due_at: datetime | None = Field(
        description="Finalized with an amount due: when payment is due (finalization + the customer's net terms)."
    )
    payment_overdue: bool = Field(description="Unpaid past due_at (set by the daily overdue job); the status stays.")
    seller: SellerOut | None = Field(description="As it was when the invoice was finalized.")
    buyer: BuyerOut | None = Field(description="The customer as it was when the invoice was finalized.")
    paid_via: str | None
    payment_reference: str | None
    metadata: dict[str, Any]
    created_at: datetime
    finalized_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None

    @classmethod
    def of(cls, invoice: Invoice) -> InvoiceOut:
        currency = invoice.currency
        return cls(
            id=invoice.id, number=invoice.number, status=invoice.status, customer=invoice.customer_id,
            currency=currency, description=invoice.description,
            lines=[LineOut.of(line, currency) for line in invoice.lines],
            tax_lines=[TaxLineOut.of(tax, currency) for tax in invoice.tax_lines],
            subtotal=format_minor(invoice.subtotal, currency), tax=format_minor(invoice.tax, currency),
            total=format_minor(invoice.total, currency),
            amount_due=format_minor(invoice.total - invoice.amount_paid if invoice.status == "finalized" else 0,
                                    currency),
            due_at=invoice.due_at, payment_overdue=invoice.payment_overdue,
            seller=SellerOut.of(invoice.seller) if invoice.seller else None,
            buyer=BuyerOut.of(invoice.buyer) if invoice.buyer else None,
            paid_via=invoice.paid_via, payment_reference=invoice.payment_reference, metadata=invoice.metadata,
            created_at=invoice.created_at, finalized_at=invoice.finalized_at, paid_at=invoice.paid_at,
            voided_at=invoice.voided_at,
        )
