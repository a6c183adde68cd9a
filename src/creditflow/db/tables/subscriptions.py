"""Plans and subscriptions paid from the balance, and each charge a subscription made (once per period)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

PLAN_INTERVALS = ("week", "month", "year")
SUBSCRIPTION_STATUSES = ("trialing", "active", "past_due", "suspended", "canceled")

# What a subscriber pays each interval, from the wallet in the plan's currency, and what it includes.
plans = Table(
    "plans",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(100), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("interval", String(10), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("included_credits", BigInteger),
    Column("included_unit", String(16)),
    Column("rollover", Boolean, nullable=False),
    Column("trial_days", Integer, nullable=False),
    Column("paid_credits_only", Boolean, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
    CheckConstraint("interval IN ('week', 'month', 'year')", name="interval_known"),
    CheckConstraint("amount >= 0 AND trial_days >= 0", name="amounts_valid"),
    CheckConstraint("included_credits IS NULL OR included_credits > 0", name="included_positive"),
    CheckConstraint("status IN ('active', 'archived')", name="status_known"),
)

# One customer's subscription. Periods are counted from `anchor_at` in the customer's time zone, so a month
# that starts on the 31st ends on the last day of a shorter month and the next one is back on the 31st.
# `next_attempt_at` is when the renewal job next looks at it: the period's end, or the next retry.
subscriptions = Table(
    "subscriptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("plan_id", ID, ForeignKey("plans.id"), nullable=False),
    Column("next_plan_id", ID, ForeignKey("plans.id")),
    Column("status", String(20), nullable=False),
    Column("anchor_at", UTCDateTime(), nullable=False),
    Column("period_index", Integer, nullable=False),
    Column("current_period_start", UTCDateTime(), nullable=False),
    Column("current_period_end", UTCDateTime(), nullable=False),
    Column("trial_end", UTCDateTime()),
    Column("cancel_at_period_end", Boolean, nullable=False),
    Column("canceled_at", UTCDateTime()),
    Column("past_due_since", UTCDateTime()),
    Column("next_attempt_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint(
        "status IN ('trialing', 'active', 'past_due', 'suspended', 'canceled')", name="status_known"
    ),
    CheckConstraint("current_period_end > current_period_start", name="period_valid"),
    Index(None, "customer_id", "status"),
    Index(None, "next_attempt_at"),
)

# Every charge (and proration) a subscription made: unique per subscription, period and kind, so a period
# is charged once however many runners, retries and top-ups try.
subscription_charges = Table(
    "subscription_charges",
    metadata,
    Column("id", ID, primary_key=True),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False),
    Column("plan_id", ID, ForeignKey("plans.id"), nullable=False),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("operation_id", ID),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=False),
    Column("grant_id", ID),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("kind IN ('period', 'upgrade')", name="kind_known"),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
    UniqueConstraint("subscription_id", "period_start", "kind", "plan_id", name="uq_subscription_charges_once"),
)
