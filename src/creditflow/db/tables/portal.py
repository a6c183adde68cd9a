"""Browser sessions, single-use portal tokens and the portal's own end-user accounts."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# Server-side sessions: the cookie carries a random secret, the table only its SHA-256 (like API keys).
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("secret_hash", String(64), nullable=False, unique=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("via", String(20), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime()),
    Index(None, "customer_id"),
)

# Single-use tokens: operator-minted links, exchanged JWT ids and password resets; stored hashed.
portal_tokens = Table(
    "portal_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("kind", String(10), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("flow", String(20)),
    Column("return_url", String(2000)),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("used_at", UTCDateTime()),
    Index(None, "expires_at"),
)

portal_users = Table(
    "portal_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False, unique=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("password_hash", String(200), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("password_changed_at", UTCDateTime(), nullable=False),
)
