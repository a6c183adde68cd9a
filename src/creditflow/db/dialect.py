"""The few statements whose spelling differs between SQLite and PostgreSQL."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Executable, String, Table, any_, bindparam, func, literal
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import asyncpg as postgresql_asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

_POSTGRES = postgresql_asyncpg.dialect()


async def insert_ignoring_conflicts(conn: AsyncConnection, table: Table, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING, on either engine; returns how many rows went in."""
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(table).on_conflict_do_nothing()
    # One row goes through execute(), not executemany(): only then does every driver report the rowcount.
    result = await conn.execute(statement, rows[0] if len(rows) == 1 else rows)
    return max(result.rowcount, 0)


async def insert_or_add(
    conn: AsyncConnection, table: Table, rows: list[dict[str, Any]], *, key: Sequence[str], add: Sequence[str]
) -> None:
    """INSERT rows; where the `key` already exists, add the rows' `add` columns to the stored ones.

    One statement per batch, and the addition happens in the database, so concurrent writers never
    lose each other's increments.
    """
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(table)
    changes = {name: table.c[name] + statement.excluded[name] for name in add}
    changes.update({c.name: statement.excluded[c.name] for c in table.c if c.name not in key and c.name not in add})
    await conn.execute(statement.on_conflict_do_update(index_elements=list(key), set_=changes), rows)


def one_of_param(dialect: str, column: ColumnElement[Any], name: str) -> ColumnElement[bool]:
    """`column IN :name` for statements built once and reused: pass a list under `name` at execution."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=postgresql.ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


@functools.cache
def _compiled_for_postgres(statement: Executable) -> tuple[str, tuple[str, ...], dict[str, Any]]:
    compiled = statement.compile(dialect=_POSTGRES)
    return compiled.string, tuple(compiled.positiontup or ()), dict(compiled.params)


async def fetch_mappings(
    conn: AsyncConnection, statement: Executable, params: dict[str, Any]
) -> Sequence[Mapping[str, Any]]:
    """Run a statement built once (module level or cached) and return its rows as mappings.

    On PostgreSQL, inside an open transaction, it runs straight on the driver connection with SQL compiled
    once: the hot path then skips SQLAlchemy's per-execution work. Outside a transaction (where
    SQLAlchemy's asyncpg adapter has not sent BEGIN yet) and on SQLite it is an ordinary execute.
    """
    if conn.dialect.name == "postgresql":
        driver = (await conn.get_raw_connection()).driver_connection
        if driver.is_in_transaction():
            sql, names, defaults = _compiled_for_postgres(statement)
            return await driver.fetch(sql, *[params[n] if n in params else defaults[n] for n in names])
    return [row._mapping for row in (await conn.execute(statement, params)).all()]


class MappingRow:
    """Attribute access to a mapping row (fetch_mappings), as the row converters written for
    SQLAlchemy rows expect."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        self._mapping = mapping

    def __getattr__(self, name: str) -> Any:
        try:
            return self._mapping[name]
        except KeyError:
            raise AttributeError(name) from None


# A SUM over many rows can pass 64 bits (a system account collects every customer's grants): SQLite then fails
# with "integer overflow". Summing each value's high and low parts separately keeps both sums small, and Python
# joins them exactly. `/` and `%` truncate alike on both engines, so value = high * _SPLIT + low holds for
# negatives too.
_SPLIT = 2**31


def exact_sum(column: ColumnElement[Any]) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """Two aggregate columns whose values exact_total joins into the SUM of `column`, free of overflow."""
    split = literal(_SPLIT, BigInteger())
    # The precedence of * and /, so that an expression such as `a - b` is parenthesized before it is divided.
    return func.sum(column.op("/", precedence=8)(split)), func.sum(column.op("%", precedence=8)(split))


def exact_total(high: Any, low: Any) -> int:
    """The SUM from exact_sum's two parts (NULL, for no rows, is 0)."""
    return int(high or 0) * _SPLIT + int(low or 0)


def constraint_violated(error: IntegrityError) -> tuple[bool, str]:
    """(whether it is a unique violation, the constraint's name or the driver's message) of an IntegrityError."""
    original = error.orig
    cause = getattr(original, "__cause__", None)
    name = getattr(cause, "constraint_name", None) or str(original)
    sqlstate = getattr(original, "sqlstate", None) or getattr(cause, "sqlstate", None)
    if sqlstate is not None:
        return sqlstate == "23505", name
    return str(original).startswith("UNIQUE constraint failed"), name
