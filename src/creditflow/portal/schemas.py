"""Portal answers: allow-listed. A field reaches a customer only if it is named here, so operator-only
fields (needs_review, cost basis, actor, internal metadata) cannot leak through a new operator field."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Self

from pydantic import AwareDatetime, BaseModel, Field

from creditflow import money
from creditflow.apikeys.schemas import RateLimit
from creditflow.customers.service import Customer
from creditflow.http.schemas import StrictModel
from creditflow.ledger.models import OperationView
from creditflow.money import PositiveAmount, Unit
from creditflow.portal.models import Flow
from creditflow.portal.views import next_expiring_lot
from creditflow.wallets.service import WalletView

DEBIT_KINDS = frozenset({"debit", "capture", "subscription", "expiry", "grant_void", "debt", "refund_reversal"})
# What a row of history was, in the customer's words: its origin is tagged in the operation's metadata.
ORIGIN_LABELS = {"topup_id": "Top-up", "subscription_id": "Subscription"}
KIND_LABELS = {
    "grant": "Credits added", "debit": "Charge", "subscription": "Subscription", "capture": "Usage",
    "expiry": "Credits expired",
    "refund": "Refund", "grant_void": "Credits removed", "debt": "Payment dispute", "hold": "Reserved",
    "hold_void": "Reservation released", "hold_expiry": "Reservation expired",
}


class AllowListed(BaseModel):
    @classmethod
    def allow_listed(cls, operator_view: BaseModel) -> Self:
        """This model's fields of an operator answer, and nothing else."""
        return cls.model_validate(operator_view.model_dump(include=set(cls.model_fields)))


class PortalCustomer(BaseModel):
    object: Literal["customer"] = "customer"
    id: str
    external_id: str
    name: str | None
    email: str | None
    currency: str
    timezone: str

    @classmethod
    def of(cls, customer: Customer) -> PortalCustomer:
        return cls(
            id=customer.id, external_id=customer.external_id, name=customer.name, email=customer.email,
            currency=customer.currency, timezone=customer.timezone,
        )


class NextExpiry(BaseModel):
    amount: str
    expires_at: datetime


class PortalWallet(BaseModel):
    object: Literal["wallet"] = "wallet"
    currency: str
    available: str
    posted: str
    held: str
    credit_limit: str
    next_expiry: NextExpiry | None = Field(description="The next credits to expire, and when.")

    @classmethod
    def of(cls, view: WalletView) -> PortalWallet:
        state, unit = view.state, view.state.unit
        lot = next_expiring_lot(view)
        next_expiry = None
        if lot is not None and lot.expires_at is not None:
            next_expiry = NextExpiry(amount=money.format(lot.remaining, unit), expires_at=lot.expires_at)
        return cls(
            currency=unit, available=money.format(state.available, unit), posted=money.format(state.posted, unit),
            held=money.format(state.held, unit), credit_limit=money.format(state.credit_limit, unit),
            next_expiry=next_expiry,
        )


def transaction_label(operation: OperationView) -> str:
    if operation.kind == "grant":
        for tag, label in ORIGIN_LABELS.items():
            if tag in operation.metadata:
                return label
    if operation.kind in ("debit", "capture") and (operation.description or "").startswith("usage"):
        return "Usage"
    return KIND_LABELS.get(operation.kind, operation.kind.replace("_", " ").capitalize())


def signed_amount(operation: OperationView) -> int:
    return -operation.amount if operation.kind in DEBIT_KINDS else operation.amount


class PortalTransaction(BaseModel):
    object: Literal["transaction"] = "transaction"
    id: str
    kind: str
    label: str = Field(description="What it was: Top-up, Usage, Subscription, Refund, Credits expired, ...")
    amount: str = Field(description="Signed: negative when credits left the wallet.")
    currency: str
    description: str | None
    created_at: datetime

    @classmethod
    def of(cls, operation: OperationView) -> PortalTransaction:
        return cls(
            id=operation.id, kind=operation.kind, label=transaction_label(operation),
            amount=money.format(signed_amount(operation), operation.unit), currency=operation.unit,
            description=operation.description, created_at=operation.created_at,
        )


class PortalInvoiceLine(BaseModel):
    description: str
    amount: str


class PortalInvoice(AllowListed):
    object: Literal["invoice"] = "invoice"
    id: str
    number: str | None
    status: str
    currency: str
    description: str | None
    lines: list[PortalInvoiceLine]
    subtotal: str
    tax: str
    total: str
    amount_due: str
    created_at: datetime
    finalized_at: datetime | None
    paid_at: datetime | None


class PortalPrice(BaseModel):
    amount: str
    currency: str


class PortalPackage(AllowListed):
    object: Literal["package"] = "package"
    id: str
    name: str
    price: PortalPrice
    credits: str
    bonus_credits: str | None
    currency_of_credits: str


class PortalTopup(AllowListed):
    object: Literal["topup"] = "topup"
    id: str
    status: str
    gateway: str
    package: str | None
    description: str
    currency: str
    amount: str
    subtotal: str
    tax: str
    total: str
    credits: str
    bonus_credits: str
    currency_of_credits: str
    checkout_url: str | None
    token: str | None
    publishable_key: str | None
    return_url: str | None
    expires_at: datetime
    amount_refunded: str
    failure_reason: str | None
    invoice: str | None
    paid_at: datetime | None
    created_at: datetime


class PortalTopupCreate(StrictModel):
    package: str | None = Field(default=None, description="A package id; or give amount and currency.")
    amount: PositiveAmount | None = None
    currency: Unit | None = None
    gateway: str = Field(description="One of GET /v1/portal/packages' gateways.")
    return_url: str | None = Field(default=None, description="https, on an origin the operator allowed.")


class PortalApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200)
    rate_limit: RateLimit | None = None


class PortalSessionCreate(StrictModel):
    return_url: str | None = Field(default=None, description="Where the portal's back link goes.")
    expires_in: int = Field(default=3600, ge=60, le=24 * 3600, description="Seconds the link can be opened.")
    flow: Flow = Field(default=Flow.OVERVIEW, description="The page the link opens.")


class PortalSessionOut(BaseModel):
    object: Literal["portal_session"] = "portal_session"
    url: str = Field(description="Single use: opening it starts a session and redirects to a clean URL.")
    expires_at: datetime


class PortalSignup(StrictModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=10, max_length=200)


class PortalLogin(StrictModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=200)


class PortalToken(BaseModel):
    object: Literal["portal_token"] = "portal_token"
    token: str = Field(description="Send as 'Authorization: Bearer <token>' to /v1/portal.")
    expires_at: AwareDatetime
    customer: str
    api_key: str | None = Field(default=None, description="The first API key, shown this once (sign-up only).")
