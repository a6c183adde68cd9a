"""Plans and subscriptions as the service returns them (no HTTP, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

TRIALING = "trialing"
ACTIVE = "active"
PAST_DUE = "past_due"
SUSPENDED = "suspended"
CANCELED = "canceled"
# The statuses in which a subscription still renews (or is retried); canceled is final.
LIVE = (TRIALING, ACTIVE, PAST_DUE, SUSPENDED)
# Unpaid: a top-up renews these at once.
UNPAID = (PAST_DUE, SUSPENDED)


@dataclass(frozen=True, slots=True)
class Plan:
    id: str
    code: str
    name: str
    interval: str
    currency: str
    amount: int
    included_credits: int | None
    included_unit: str | None
    rollover: bool
    trial_days: int
    paid_credits_only: bool
    status: str
    created_at: datetime
    archived_at: datetime | None


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    customer_id: str
    plan_id: str
    next_plan_id: str | None
    status: str
    anchor_at: datetime
    period_index: int
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    past_due_since: datetime | None
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
