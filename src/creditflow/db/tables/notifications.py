"""Notifications to people: low-balance thresholds per wallet, and the outbox of emails the job runner sends."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# A wallet's low-balance threshold (an amount, or a percentage of the customer's last top-up in its unit),
# and whether each alert is armed: it fires once per crossing and re-arms when the balance climbs back.
balance_alerts = Table(
    "balance_alerts",
    metadata,
    Column("wallet_id", ID, ForeignKey("wallets.id"), primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("threshold", BigInteger),
    Column("threshold_percent", Integer),
    Column("low_armed", Boolean, nullable=False),
    Column("depleted_armed", Boolean, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint(
        "(threshold IS NULL) <> (threshold_percent IS NULL)", name="one_threshold"
    ),
    CheckConstraint("threshold IS NULL OR threshold > 0", name="threshold_positive"),
    CheckConstraint("threshold_percent IS NULL OR threshold_percent BETWEEN 1 AND 100", name="percent_valid"),
)

# Emails written in the same transaction as what they tell of, and sent by the job runner afterwards.
email_outbox = Table(
    "email_outbox",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("to_address", String(320), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", Text, nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.id")),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime()),
    Column("lease_until", UTCDateTime()),
    Column("last_error", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("sent_at", UTCDateTime()),
    CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="status_known"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "customer_id"),
)
