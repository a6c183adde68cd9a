"""Console users and their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True, slots=True)
class ConsoleUser:
    id: str
    email: str
    role: Role
    totp_enabled: bool
    disabled_at: datetime | None
    password_changed_at: datetime
    created_at: datetime

    @property
    def actor(self) -> str:
        """How the ledger and the audit log name this user (Tx.actor)."""
        return f"user:{self.id}"
