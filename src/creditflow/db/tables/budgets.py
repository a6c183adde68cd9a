"""Spend controls: budgets, their spend per calendar period, what holds reserve of them, and alerts."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
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

# A spending cap for a customer (all of its spend in one unit) or for one of its API keys.
budgets = Table(
    "budgets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("api_key_id", ID, ForeignKey("customer_api_keys.id")),
    Column("unit", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("period", String(10), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("thresholds", JSON, nullable=False),
    Column("action", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The last manual reset (POST /v1/budgets/{id}/reset): the current period starts there, not at the calendar's.
    Column("reset_at", UTCDateTime()),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "customer_id", "status"),
)

# Spend (captured, debited, charged) and reservations (active holds) of one budget in one period.
# A new period is simply a new row: periods roll over without a reset job. Written only by adding
# deltas in an upsert, so there is no CHECK on `reserved`: SQLite checks the would-be inserted row
# (the delta) before resolving the conflict. hold_budgets.reserved keeps the non-negative guarantee.
budget_usage = Table(
    "budget_usage",
    metadata,
    Column("budget_id", ID, ForeignKey("budgets.id"), primary_key=True),
    Column("period_start", UTCDateTime(), primary_key=True),
    Column("spent", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# What an active hold still reserves of each budget, and in which period, so capture and void release it.
hold_budgets = Table(
    "hold_budgets",
    metadata,
    Column("hold_id", ID, ForeignKey("holds.id"), primary_key=True),
    Column("budget_id", ID, ForeignKey("budgets.id"), primary_key=True),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("reserved", BigInteger, nullable=False),
    CheckConstraint("reserved >= 0", name="reserved_not_negative"),
)

# Threshold crossings, once per budget, period and threshold (the unique key makes "once" hold).
alerts = Table(
    "alerts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(40), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("budget_id", ID, ForeignKey("budgets.id"), nullable=False),
    Column("period_start", UTCDateTime(), nullable=False),
    Column("threshold", Integer, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("budget_amount", BigInteger, nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("budget_id", "period_start", "kind", "threshold"),
    Index(None, "customer_id", "id"),
)

# The audit trail of manual resets: who started a new period when, and what the period left behind had used.
budget_resets = Table(
    "budget_resets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("budget_id", ID, ForeignKey("budgets.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("previous_period_start", UTCDateTime(), nullable=False),
    Column("spent", BigInteger, nullable=False),
    Column("reserved", BigInteger, nullable=False),
    Column("actor", String(80), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "budget_id", "id"),
)
