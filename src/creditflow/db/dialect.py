"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING, on either engine."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    await conn.execute(module.insert(table).on_conflict_do_nothing(), rows)


def one_of(conn: AsyncConnection, column: ColumnElement[Any], values: list[str]) -> ColumnElement[bool]:
    """`column IN values`. On PostgreSQL as `= ANY(:array)`: one SQL text for any number of values,
    so the driver's prepared statement is reused instead of re-planned per list length."""
    if conn.dialect.name == "postgresql":
        return column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(String)))
    return column.in_(list(values))
