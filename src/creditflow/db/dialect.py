"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on either engine."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(module.insert(table).on_conflict_do_nothing(), rows)
