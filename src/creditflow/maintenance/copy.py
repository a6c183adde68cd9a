"""`creditflow copy --to URL`: move an installation (SQLite, usually) into an empty PostgreSQL database.

The target is migrated to the same schema, then every table is copied in dependency order (parents
before the rows that point at them) in ONE target transaction, so a failure leaves the target empty.
Rows are read and written in pages, through the same table definitions the application uses, so
every type (times, JSON, booleans) arrives as the application wrote it.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from creditflow.db.migrate import upgrade
from creditflow.db.tables import metadata

PAGE = 1000


class CopyRefused(Exception):
    """Nothing was written to the target; the message says why."""


async def row_counts(conn: AsyncConnection) -> dict[str, int]:
    return {t.name: (await conn.execute(select(func.count()).select_from(t))).scalar_one() for t in _tables()}


def _tables() -> list[Table]:
    return list(metadata.sorted_tables)


async def ensure_empty(target: AsyncEngine) -> None:
    """Refuse a target that holds anything: other tables, or rows in ours."""
    async with target.connect() as conn:
        names = await conn.run_sync(lambda sync: inspect(sync).get_table_names())
    foreign = sorted(set(names) - {t.name for t in _tables()} - {"alembic_version"})
    if foreign:
        raise CopyRefused(f"the target database is not empty: it has the table(s) {', '.join(foreign[:5])}")
    if names:
        await upgrade(target)
        async with target.connect() as conn:
            filled = {name: n for name, n in (await row_counts(conn)).items() if n}
        if filled:
            listed = ", ".join(f"{name} ({n} rows)" for name, n in sorted(filled.items())[:5])
            raise CopyRefused(f"the target database is not empty: {listed}")


async def copy_tables(source: AsyncEngine, target: AsyncEngine, advance: Callable[[int], None]) -> dict[str, int]:
    """Copy every row; returns how many rows each table received."""
    await upgrade(target)
    copied: dict[str, int] = {}
    async with source.connect() as reader, target.begin() as writer:
        for table in _tables():
            copied[table.name] = await _copy_table(reader, writer, table, advance)
    return copied


async def _copy_table(
    reader: AsyncConnection, writer: AsyncConnection, table: Table, advance: Callable[[int], None]
) -> int:
    order = list(table.primary_key.columns) or list(table.columns)
    result = await reader.stream(select(table).order_by(*order))
    total = 0
    async for page in result.mappings().partitions(PAGE):
        await writer.execute(table.insert(), [dict(row) for row in page])
        total += len(page)
        advance(len(page))
    return total
