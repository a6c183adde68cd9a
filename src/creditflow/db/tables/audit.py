"""The audit log: one row per change an operator made, written in the transaction of the change."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, String, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# Append-only: a trigger refuses UPDATE and DELETE on both engines (migration 0013), as on transfers.
audit_events = Table(
    "audit_events",
    metadata,
    Column("id", ID, primary_key=True),
    Column("actor_type", String(20), nullable=False),
    Column("actor_id", String(60), nullable=False),
    Column("action", String(80), nullable=False),
    Column("resource_type", String(40), nullable=False),
    Column("resource_id", String(200)),
    Column("ip", String(64)),
    Column("request_id", String(300)),
    Column("changes", JSON, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_audit_events_actor_id_id", "actor_id", "id"),
    Index("ix_audit_events_resource_id_id", "resource_id", "id"),
    Index("ix_audit_events_created_at", "created_at"),
)
