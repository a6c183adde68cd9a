"""Lago's request bodies, as lago-python-client 1.55 sends them: every field optional (the client writes
explicit nulls), unknown fields ignored (Lago has many this API does not use), each under its root key."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

Number = str | int | Decimal | None


class _In(BaseModel):
    model_config = ConfigDict(extra="ignore")


class MetadataItem(_In):
    key: str | None = None
    value: str | None = None


class CustomerIn(_In):
    external_id: str
    name: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None
    currency: str | None = None
    timezone: str | None = None
    metadata: list[MetadataItem] | None = None


class CustomerBody(_In):
    customer: CustomerIn


class MetricIn(_In):
    name: str
    code: str
    aggregation_type: str
    field_name: str | None = None
    description: str | None = None


class MetricBody(_In):
    billable_metric: MetricIn


class ChargeIn(_In):
    billable_metric_id: str
    charge_model: str
    properties: dict[str, Any] | None = None
    invoice_display_name: str | None = None


class PlanIn(_In):
    name: str
    code: str
    interval: str
    amount_cents: int
    amount_currency: str
    trial_period: Number = None
    pay_in_advance: bool | None = None
    description: str | None = None
    charges: list[ChargeIn] | None = None


class PlanBody(_In):
    plan: PlanIn


class SubscriptionIn(_In):
    external_customer_id: str
    plan_code: str
    external_id: str | None = None
    name: str | None = None


class SubscriptionBody(_In):
    subscription: SubscriptionIn


class WalletIn(_In):
    external_customer_id: str | None = None
    rate_amount: Number = None
    currency: str | None = None
    name: str | None = None
    code: str | None = None
    priority: int | None = None
    paid_credits: Number = None
    granted_credits: Number = None
    expiration_at: str | None = None


class WalletBody(_In):
    wallet: WalletIn


class WalletTransactionIn(_In):
    wallet_id: str
    paid_credits: Number = None
    granted_credits: Number = None
    voided_credits: Number = None


class WalletTransactionBody(_In):
    wallet_transaction: WalletTransactionIn


class EventIn(_In):
    transaction_id: str
    code: str
    external_subscription_id: str | None = None
    external_customer_id: str | None = None
    timestamp: Number | float = None
    properties: dict[str, Any] | None = None


class EventBody(_In):
    event: EventIn


class EstimateIn(EventIn):
    """An event to price, never recorded: Lago does not ask for its transaction_id."""

    transaction_id: str = "estimate"


class EstimateBody(_In):
    event: EstimateIn


class EventBatchBody(_In):
    events: list[EventIn]


class InvoiceIn(_In):
    payment_status: str | None = None


class InvoiceBody(_In):
    invoice: InvoiceIn
