"""Saved payment method and off-session charge request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow.payment_methods.models import PaymentMethod
from creditflow.topups.models import Topup
from creditflow.topups.schemas import TopupOrder, TopupOut


class CardOut(BaseModel):
    brand: str | None = Field(description="visa, mastercard, amex, ...")
    last4: str | None
    exp_month: int | None
    exp_year: int | None


class PaymentMethodOut(BaseModel):
    object: Literal["payment_method"] = "payment_method"
    id: str
    customer: str
    gateway: str
    gateway_customer: str = Field(description="The gateway's customer the method is attached to (Stripe cus_...).")
    gateway_method: str = Field(description="The gateway's id of the method (Stripe pm_...).")
    card: CardOut | None = Field(description="What the gateway showed of the card; null if nothing.")
    status: Literal["active", "detached"]
    is_default: bool = Field(description="The method charged when none is named (auto top-up).")
    created_at: datetime
    detached_at: datetime | None

    @classmethod
    def of(cls, method: PaymentMethod) -> PaymentMethodOut:
        card = None
        if any(v is not None for v in (method.brand, method.last4, method.exp_month, method.exp_year)):
            card = CardOut(brand=method.brand, last4=method.last4, exp_month=method.exp_month,
                           exp_year=method.exp_year)
        return cls(
            id=method.id, customer=method.customer_id, gateway=method.gateway, gateway_customer=method.gateway_customer,
            gateway_method=method.gateway_method, card=card, status=method.status,  # type: ignore[arg-type]
            is_default=method.is_default, created_at=method.created_at, detached_at=method.detached_at,
        )


class PaymentMethodCharge(TopupOrder):
    """A top-up bought with the saved method, priced like POST /v1/topups (limits, tax, bonus tiers)."""


class ChargeOut(BaseModel):
    object: Literal["payment_method_charge"] = "payment_method_charge"
    outcome: Literal["paid", "requires_action", "processing"] = Field(
        description="paid: credited now. requires_action: the customer's bank asks for the customer (3-D Secure); "
                    "processing: the gateway has not settled it yet. Either way the top-up is pending, and its "
                    "webhook credits it."
    )
    payment_method: str
    topup: TopupOut

    @classmethod
    def of(cls, outcome: str, method_id: str, topup: Topup) -> ChargeOut:
        return cls(outcome=outcome, payment_method=method_id, topup=TopupOut.of(topup))  # type: ignore[arg-type]
