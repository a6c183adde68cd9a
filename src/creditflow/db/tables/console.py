"""Operator accounts of the console: people, not API keys."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Column, String, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

console_users = Table(
    "console_users",
    metadata,
    Column("id", ID, primary_key=True),
    Column("email", String(320), nullable=False, unique=True),
    Column("role", String(10), nullable=False),
    Column("password_hash", String(200), nullable=False),
    # Base32 TOTP secret, kept from enrolment; codes are checked only once totp_enabled_at is set (confirmed).
    Column("totp_secret", String(64)),
    Column("totp_enabled_at", UTCDateTime()),
    Column("disabled_at", UTCDateTime()),
    Column("password_changed_at", UTCDateTime(), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("role IN ('owner', 'admin', 'viewer')", name="role_known"),
)
