"""The Lago-compatible API's own records: what Lago names that creditflow does not (wallets with a credit rate,
wallet transactions settled by an invoice, subscriptions addressed by the caller's external_id)."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Integer, String, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# A Lago wallet is a view of the customer's creditflow wallet in one currency: one credit is worth
# `rate_amount` (micro-units of the currency). Its balance is always read from the ledger.
lago_wallets = Table(
    "lago_wallets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("wallet_id", ID, ForeignKey("wallets.id"), nullable=False, unique=True),
    Column("name", String(255)),
    Column("code", String(100)),
    Column("rate_amount", BigInteger, nullable=False),
    Column("priority", Integer, nullable=False),
    Column("expiration_at", UTCDateTime()),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("terminated_at", UTCDateTime()),
    CheckConstraint("rate_amount > 0", name="rate_positive"),
)

# Paid credits wait on their invoice (pending) and are granted once, when it is paid (settled); granted
# credits settle at once. `credit_amount` is in micro-credits, `amount` in micro-units of the currency.
lago_wallet_transactions = Table(
    "lago_wallet_transactions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("lago_wallet_id", ID, ForeignKey("lago_wallets.id"), nullable=False, index=True),
    Column("status", String(20), nullable=False),
    Column("transaction_status", String(20), nullable=False),
    Column("transaction_type", String(10), nullable=False),
    Column("source", String(20), nullable=False),
    Column("credit_amount", BigInteger, nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("invoice_id", ID, ForeignKey("invoices.id"), unique=True),
    Column("grant_id", ID, ForeignKey("credit_grants.id")),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("settled_at", UTCDateTime()),
    CheckConstraint("credit_amount > 0", name="credits_positive"),
)

# The caller's external_id for each subscription made through the Lago API.
lago_subscriptions = Table(
    "lago_subscriptions",
    metadata,
    Column("external_id", String(255), primary_key=True),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), nullable=False, unique=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, index=True),
    Column("name", String(255)),
    Column("created_at", UTCDateTime(), nullable=False),
)
