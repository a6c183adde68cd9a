"""Payment methods a customer saved at a gateway (a Stripe card) for later off-session charges."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
    text,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

PAYMENT_METHOD_STATUSES = ("active", "detached")

# One row per method the gateway keeps for the customer, recorded once whichever report of its payment came
# first. Rows are never deleted: a detached method stays as the record of what top-ups were charged to.
payment_methods = Table(
    "payment_methods",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("gateway", String(20), nullable=False),
    Column("gateway_customer", String(255), nullable=False),
    Column("gateway_method", String(255), nullable=False),
    Column("brand", String(40)),
    Column("last4", String(4)),
    Column("exp_month", Integer),
    Column("exp_year", Integer),
    Column("status", String(20), nullable=False),
    Column("is_default", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("detached_at", UTCDateTime()),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in PAYMENT_METHOD_STATUSES)})", name="status_known"),
    CheckConstraint("status = 'active' OR NOT is_default", name="default_is_active"),
    UniqueConstraint("gateway", "gateway_method"),
    Index(None, "customer_id", "id"),
    # At most one default per customer, whatever races: the database refuses a second.
    Index(
        "uq_payment_methods_one_default", "customer_id", unique=True,
        sqlite_where=text("is_default"), postgresql_where=text("is_default"),
    ),
)
