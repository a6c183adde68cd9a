"""Webhooks out: operators' endpoints and what they subscribe to, the outbox of events, one delivery per
(event, endpoint) with its retry state, and every attempt made."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
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
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

DELIVERY_STATUSES = ("pending", "delivered", "failed", "canceled")

# A URL an operator wants events posted to, signed with its own secret. Deleting keeps the row (deleted_at)
# so the deliveries and attempts already made still say where they went.
webhook_endpoints = Table(
    "webhook_endpoints",
    metadata,
    Column("id", ID, primary_key=True),
    Column("url", Text, nullable=False),
    Column("description", Text),
    Column("secret", String(100), nullable=False),
    # After a rotation the old secret still signs too, until previous_secret_expires_at (migration 0016).
    Column("previous_secret", String(100)),
    Column("previous_secret_expires_at", UTCDateTime()),
    Column("disabled", Boolean, nullable=False),
    # "standard" (Standard Webhooks) or "lago" (Lago's body and X-Lago-Signature HMAC, for code moved from Lago).
    Column("format", String(20), nullable=False, server_default="standard"),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Column("deleted_at", UTCDateTime()),
)

# The event types an endpoint wants, one row each, so emitting fans out with one indexed join.
webhook_endpoint_events = Table(
    "webhook_endpoint_events",
    metadata,
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id"), primary_key=True),
    Column("event_type", String(100), primary_key=True),
    Index(None, "event_type"),
)

# The outbox: one row per billing event, written in the same transaction as the change it reports.
webhook_events = Table(
    "webhook_events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("type", String(100), nullable=False),
    Column("data", JSON, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index(None, "type", "id"),
)

# One event to one endpoint. `attempts` counts every try ever made; `retry_step` is the position in the
# backoff schedule (a resend starts it over). A worker owns a claimed row until `lease_until`, and only the
# holder of `lease_token` may record the outcome.
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", ID, primary_key=True),
    Column("event_id", ID, ForeignKey("webhook_events.id"), nullable=False),
    Column("endpoint_id", ID, ForeignKey("webhook_endpoints.id"), nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("retry_step", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime()),
    Column("lease_token", String(40)),
    Column("lease_until", UTCDateTime()),
    Column("delivered_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in DELIVERY_STATUSES)})", name="status_known"),
    CheckConstraint("attempts >= 0 AND retry_step >= 0", name="counts_not_negative"),
    UniqueConstraint("event_id", "endpoint_id"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "endpoint_id", "status"),
)

# Every HTTP attempt: what the endpoint answered (or why nothing came back) and how long it took.
webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("delivery_id", ID, ForeignKey("webhook_deliveries.id"), nullable=False),
    Column("attempted_at", UTCDateTime(), nullable=False),
    Column("status_code", Integer),
    Column("latency_ms", Integer, nullable=False),
    Column("error", Text),
    Index(None, "delivery_id"),
)
