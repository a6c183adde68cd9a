"""Customers and the double-entry ledger: accounts, wallets, credit lots, operations, transfers, holds."""

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
    UniqueConstraint,
    false,
    text,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime
from creditflow.money import MAX_BALANCE

customers = Table(
    "customers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("external_id", String(255), nullable=False, unique=True),
    Column("name", String(255)),
    Column("email", String(320)),
    Column("currency", String(16), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # Days an invoice with something due may stay unpaid; None: CREDITFLOW_INVOICE_NET_TERMS_DAYS.
    Column("net_terms_days", Integer),
)


_WITHIN_BOUNDS = " AND ".join(f"{column} <= {MAX_BALANCE}" for column in ("posted", "held", "credit_limit"))

# Every balance-carrying thing is an account. Customer accounts (credit lots, overdraft) cache posted
# and held; the CHECK makes the database itself refuse an overdraft. System accounts keep 0 there:
# their balances are summed from transfers when needed, so no hot row serializes every write.
accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id")),
    Column("wallet_id", ID),
    Column("unit", String(16), nullable=False),
    Column("posted", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("held >= 0", name="held_not_negative"),
    CheckConstraint("credit_limit >= 0", name="limit_not_negative"),
    CheckConstraint("posted - held >= -credit_limit", name="no_overdraft"),
    # money.MAX_BALANCE; on SQLite a trigger that also refuses a non-integer (migration 0012).
    CheckConstraint(_WITHIN_BOUNDS, name="within_bounds"),
    Index(None, "wallet_id"),
)


wallets = Table(
    "wallets",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("credit_limit", BigInteger, nullable=False),
    Column("posted", BigInteger, nullable=False),
    Column("held", BigInteger, nullable=False),
    Column("overdraft_account_id", ID, ForeignKey("accounts.id"), nullable=False),
    # Earliest moment a lot or hold of this wallet may expire: lets the hot path skip the sweep query.
    Column("next_expiry_at", UTCDateTime()),
    # Whether any active budget watches this wallet: the hot path reads budgets only when it does.
    Column("budgeted", Boolean, nullable=False, server_default=false()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("customer_id", "unit"),
    CheckConstraint("held >= 0", name="held_not_negative"),
    CheckConstraint("posted - held >= -credit_limit", name="no_overdraft"),
    CheckConstraint(_WITHIN_BOUNDS, name="within_bounds"),
    Index(None, "next_expiry_at"),
)


# A credit lot: business attributes of one grant. Its balance lives on the account with the same id.
credit_grants = Table(
    "credit_grants",
    metadata,
    Column("id", ID, ForeignKey("accounts.id"), primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("wallet_id", ID, ForeignKey("wallets.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("category", String(20), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("cost_amount", BigInteger),
    Column("cost_unit", String(16)),
    Column("source", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("description", Text),
    Column("metadata", JSON, nullable=False),
    Column("operation_id", ID, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "wallet_id", "status"),
    Index(None, "customer_id"),
)


# One business action. `reversed_amount` is the part of a debit already refunded (updated under a
# conditional UPDATE, like a balance), so two refunds can never return more than was taken.
operations = Table(
    "operations",
    metadata,
    Column("id", ID, primary_key=True),
    Column("kind", String(20), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id")),
    Column("wallet_id", ID, ForeignKey("wallets.id")),
    Column("unit", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("reversed_amount", BigInteger, nullable=False),
    Column("reference_id", ID),
    Column("actor", String(80), nullable=False),
    # The customer API key the spend was made with, when the caller said (usage per key, key budgets).
    Column("api_key_id", ID),
    Column("description", Text),
    Column("metadata", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="reversal_within_amount"),
    Index(None, "customer_id", "id"),
    # Partial: most operations (debits) reference nothing, and the hot path should not index them.
    Index(
        None, "reference_id",
        postgresql_where=text("reference_id IS NOT NULL"), sqlite_where=text("reference_id IS NOT NULL"),
    ),
)


# Append-only double entry: a trigger refuses UPDATE and DELETE on both engines.
transfers = Table(
    "transfers",
    metadata,
    Column("id", ID, primary_key=True),
    Column("operation_id", ID, ForeignKey("operations.id"), nullable=False),
    Column("debit_account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("credit_account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("unit", String(16), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("amount > 0", name="amount_positive"),
    CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
    Index(None, "operation_id"),
    # The reports read a day's transfers (migration 0014). BRIN on PostgreSQL: rows arrive in time order, so a
    # block-range index finds a day at almost no cost to the hot path's inserts; SQLite has only B-trees.
    Index(None, "created_at", postgresql_using="brin"),
)


holds = Table(
    "holds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("wallet_id", ID, ForeignKey("wallets.id"), nullable=False),
    Column("unit", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("captured", BigInteger, nullable=False),
    Column("status", String(20), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("description", Text),
    Column("metadata", JSON, nullable=False),
    Column("actor", String(80), nullable=False),
    # The customer API key the spend was made with, when the caller said (usage per key, key budgets).
    Column("api_key_id", ID),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    CheckConstraint("amount > 0", name="amount_positive"),
    Index(None, "wallet_id", "status", "expires_at"),
    Index(None, "customer_id", "id"),
)


# What a hold reserves on each account, in draw order. `remaining` is the part still reserved;
# an account's `held` is the sum of `remaining` over the active holds' allocations (creditflow check).
hold_allocations = Table(
    "hold_allocations",
    metadata,
    Column("hold_id", ID, ForeignKey("holds.id"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("remaining", BigInteger, nullable=False),
    CheckConstraint("remaining >= 0 AND remaining <= amount", name="remaining_within_amount"),
    Index(None, "account_id"),
)
