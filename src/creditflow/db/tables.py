"""The schema, as SQLAlchemy Core tables. Migrations build it; these definitions are what queries use.

Core rather than ORM: the money path is a handful of explicit statements, and an identity map would
only add work per operation. A test compares these tables with the migrated schema.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

from creditflow.db.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

ID = String(40)

operator_keys = Table(
    "operator_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("scopes", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
)

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
)

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
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    UniqueConstraint("customer_id", "unit"),
    CheckConstraint("held >= 0", name="held_not_negative"),
    CheckConstraint("posted - held >= -credit_limit", name="no_overdraft"),
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

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("scope", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("lease_expires_at", UTCDateTime(), nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Index(None, "expires_at"),
)

# A customer's own API key (for API gateways): shown once, stored as SHA-256 like operator keys.
customer_api_keys = Table(
    "customer_api_keys",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("expires_at", UTCDateTime()),
    Column("rate_limit_requests", Integer),
    Column("rate_limit_per", String(10)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    CheckConstraint(
        "(rate_limit_requests IS NULL AND rate_limit_per IS NULL) OR "
        "(rate_limit_requests > 0 AND rate_limit_per IN ('second', 'minute'))",
        name="rate_limit_complete",
    ),
    Index(None, "customer_id", "id"),
)

# Usage metering: what is counted (metrics), what it costs (prices), what happened (events).
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
    Index(None, "metric_id", "status"),
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
)
