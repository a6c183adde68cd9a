"""Cursor pagination shared by every list endpoint: newest first, after the last id of the previous page."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select

T = TypeVar("T", bound=tuple[Any, ...])


def newest_first(
    query: Select[T], id_column: ColumnElement[str], *, limit: int, starting_after: str | None
) -> Select[T]:
    """One page of `query`: ids are time-ordered, so descending id is newest first and the cursor is an id."""
    query = query.order_by(id_column.desc()).limit(limit)
    if starting_after is not None:
        query = query.where(id_column < starting_after)
    return query
