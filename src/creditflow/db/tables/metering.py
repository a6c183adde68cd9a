"""Usage metering: what is counted (metrics), what it costs (prices), what happened (events)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    UniqueConstraint,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

metrics = Table(
    "metrics",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(100), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("aggregation", String(20), nullable=False),
    Column("field", String(100)),
    Column("filters", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
)


prices = Table(
    "prices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("metric_id", ID, ForeignKey("metrics.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id")),
    Column("currency", String(16), nullable=False),
    Column("model", String(20), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("free_units_per_period", BigInteger, nullable=False),
    Column("period", String(10), nullable=False),
    Column("filters", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
    # A plan's price applies to the plan's subscribers (between a customer's own and the default).
    Column("plan_id", ID, ForeignKey("plans.id")),
    Index(None, "metric_id", "status"),
    CheckConstraint("customer_id IS NULL OR plan_id IS NULL", name="one_owner"),
)


# Running usage per (customer, price, period): rating an event is price(units after) - price(units before).
usage_aggregates = Table(
    "usage_aggregates",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), primary_key=True),
    Column("price_id", ID, ForeignKey("prices.id"), primary_key=True),
    Column("period_start", UTCDateTime(), primary_key=True),
    Column("units", BigInteger, nullable=False),
    Column("events", BigInteger, nullable=False),
    Column("cost", BigInteger, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)


events = Table(
    "events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("transaction_id", String(255), nullable=False),
    Column("metric_id", ID, ForeignKey("metrics.id"), nullable=False),
    Column("timestamp", UTCDateTime(), nullable=False),
    Column("properties", JSON, nullable=False),
    Column("quantity", BigInteger, nullable=False),
    Column("price_id", ID, ForeignKey("prices.id")),
    Column("period_start", UTCDateTime()),
    Column("cost", BigInteger, nullable=False),
    Column("currency", String(16)),
    Column("operation_id", ID),
    Column("api_key_id", ID),
    Column("refunded", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    UniqueConstraint("customer_id", "transaction_id"),
    Index(None, "customer_id", "id"),
    Index(None, "metric_id", "timestamp"),
    # Usage reports: one customer's events over a time range.
    Index(None, "customer_id", "timestamp"),
)
