"""The context every service call runs in: one open transaction, the moment it happens, who acts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(slots=True)
class Tx:
    conn: AsyncConnection
    now: datetime
    actor: str

    @property
    def is_sqlite(self) -> bool:
        return self.conn.dialect.name == "sqlite"
