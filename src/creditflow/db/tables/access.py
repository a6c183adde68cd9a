"""Who may call: operator keys, customer API keys, and idempotency records of their writes."""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

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
    # "manage" lets the key change things on /v1/portal (top-ups, keys, plans); empty: read-only there.
    Column("scopes", String(100), nullable=False, server_default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime()),
    CheckConstraint(
        "(rate_limit_requests IS NULL AND rate_limit_per IS NULL) OR "
        "(rate_limit_requests > 0 AND rate_limit_per IN ('second', 'minute'))",
        name="rate_limit_complete",
    ),
    Index(None, "customer_id", "id"),
)
