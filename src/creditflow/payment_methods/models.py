"""Saved payment methods as the service returns them (no HTTP, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from creditflow.payments.gateways.base import SavedPaymentMethod

ACTIVE = "active"
DETACHED = "detached"


@dataclass(frozen=True, slots=True)
class PaymentMethod:
    id: str
    customer_id: str
    gateway: str
    gateway_customer: str
    gateway_method: str
    brand: str | None
    last4: str | None
    exp_month: int | None
    exp_year: int | None
    status: str
    is_default: bool
    created_at: datetime
    detached_at: datetime | None

    @property
    def at_gateway(self) -> SavedPaymentMethod:
        """What the gateway knows this method by."""
        return SavedPaymentMethod(customer=self.gateway_customer, payment_method=self.gateway_method)
