"""Auto top-up settings and attempts as the service returns them (no HTTP, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

CHARGE = "charge"
"""An off-session charge of a saved payment method (Stripe)."""
LINK = "link"
"""A top-up opened at a gateway and its payment link emailed to the customer (no saved method to charge)."""

PENDING = "pending"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AutoTopup:
    wallet_id: str
    customer_id: str
    unit: str
    """The wallet's unit: threshold and target_balance are in it."""
    currency: str
    """The money charged."""
    threshold: int
    amount: int | None
    target_balance: int | None
    max_per_day: int
    payment_method_id: str | None
    """None: the customer's default saved method at the time of each attempt."""
    link_gateway: str | None
    failures: int
    retry_at: datetime | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    wallet_id: str
    customer_id: str
    kind: str
    status: str
    currency: str
    amount: int
    payment_method_id: str | None
    topup_id: str | None
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None
