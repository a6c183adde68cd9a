"""Invoices: lines and tax lines in the currency's minor units, seller and buyer copied at finalization,
and the per-year counters that number them without gaps."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
    text,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# Amounts are integers of the currency's minor units (cents, yen), not micro-units: an invoice shows
# exactly what it adds up, and nothing on it can be rounded again. subtotal is net of tax in every case.
invoices = Table(
    "invoices",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("status", String(20), nullable=False),
    # Taken from invoice_counters at finalization; drafts have none, a voided invoice keeps its own.
    Column("number", String(64), unique=True),
    Column("description", Text),
    Column("metadata", JSON, nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    # Collected so far: a period-close invoice the balance could not cover stays finalized with the rest due.
    Column("amount_paid", BigInteger, nullable=False, server_default=text("0")),
    Column("seller_name", String(255)),
    Column("seller_address", Text),
    Column("seller_tax_id", String(64)),
    Column("seller_email", String(320)),
    Column("seller_timezone", String(64)),
    Column("buyer_name", String(255)),
    Column("buyer_email", String(320)),
    Column("buyer_external_id", String(255)),
    Column("buyer_metadata", JSON),
    Column("paid_via", String(40)),
    Column("payment_reference", String(255)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("finalized_at", UTCDateTime()),
    # Set at finalization only while something is due (cleared once paid); past it, the overdue job sets
    # payment_overdue beside the status, so statuses still only move forward.
    Column("due_at", UTCDateTime()),
    Column("payment_overdue", Boolean, nullable=False, server_default=false()),
    Column("paid_at", UTCDateTime()),
    Column("voided_at", UTCDateTime()),
    CheckConstraint("status IN ('draft', 'finalized', 'paid', 'void')", name="status_known"),
    CheckConstraint("subtotal + tax = total", name="totals_add_up"),
    CheckConstraint("subtotal >= 0 AND tax >= 0", name="amounts_not_negative"),
    CheckConstraint("(number IS NULL) = (finalized_at IS NULL)", name="numbered_when_finalized"),
    Index(None, "customer_id", "id"),
    Index("ix_invoices_status_due_at", "status", "due_at"),
)


invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_id", ID, ForeignKey("invoices.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("description", Text, nullable=False),
    Column("amount", BigInteger, nullable=False),
)


# Each tax applies to the whole invoice. `inclusive`: the amount is the part already inside the lines.
invoice_tax_lines = Table(
    "invoice_tax_lines",
    metadata,
    Column("invoice_id", ID, ForeignKey("invoices.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("name", String(100), nullable=False),
    Column("rate_percent", String(20), nullable=False),
    Column("inclusive", Boolean, nullable=False),
    Column("amount", BigInteger, nullable=False),
    CheckConstraint("amount >= 0", name="amount_not_negative"),
)


# The last number issued per (prefix, year). Finalization increments it with a conditional UPDATE in its
# own transaction: the row lock orders concurrent finalizations, and a rollback gives the number back.
invoice_counters = Table(
    "invoice_counters",
    metadata,
    Column("prefix", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last_number", BigInteger, nullable=False),
    CheckConstraint("last_number >= 0", name="last_number_not_negative"),
)
