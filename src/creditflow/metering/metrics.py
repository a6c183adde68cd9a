"""Metrics: what is counted, how events of one code aggregate, and which property values prices may filter on."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update

from creditflow.db.pagination import newest_first
from creditflow.db.tables import metrics
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id

AGGREGATIONS = ("count", "sum", "max", "unique_count", "latest")
# Rated and charged the moment an event arrives; the others are charged when a billing period closes.
REAL_TIME = ("count", "sum")
_CODE = re.compile(r"^[a-z0-9][a-z0-9_.\-]{0,99}$")
# Filter keys are read inside SQL JSON paths too (usage reports), where a quote could not be escaped on SQLite.
_FILTER_KEY = re.compile(r"^[A-Za-z0-9_.:\-]{1,100}$")


class MetricExists(Conflict):
    code = "metric_exists"


class InvalidProperty(InvalidRequest):
    code = "invalid_property"


@dataclass(slots=True)
class Metric:
    id: str
    code: str
    name: str
    aggregation: str
    field: str | None
    filters: dict[str, list[str]]
    status: str
    created_at: datetime
    archived_at: datetime | None


def metric_from_row(row: Any) -> Metric:
    return Metric(
        id=row.id,
        code=row.code,
        name=row.name,
        aggregation=row.aggregation,
        field=row.field,
        filters=row.filters,
        status=row.status,
        created_at=row.created_at,
        archived_at=row.archived_at,
    )


async def create_metric(
    tx: Tx, *, code: str, name: str, aggregation: str, field: str | None, filters: dict[str, list[str]]
) -> Metric:
    if not _CODE.match(code):
        raise InvalidRequest("code is 1 to 100 lower-case letters, digits, '_', '.' or '-'", param="code")
    if aggregation not in AGGREGATIONS:
        raise InvalidRequest(f"aggregation must be one of {', '.join(AGGREGATIONS)}", param="aggregation")
    if aggregation != "count" and not field:
        raise InvalidRequest(f"a {aggregation} metric needs the event property to aggregate", param="field")
    check_filter_keys(filters)
    for key, values in filters.items():
        if not values:
            raise InvalidRequest(f"filters.{key} must declare at least one value", param="filters")
    taken = (await tx.conn.execute(select(metrics.c.id).where(metrics.c.code == code))).first()
    if taken is not None:
        raise MetricExists(f"a metric with code '{code}' already exists", param="code", details={"id": taken.id})
    metric_id = new_id("met")
    await tx.conn.execute(
        metrics.insert().values(
            id=metric_id,
            code=code,
            name=name,
            aggregation=aggregation,
            field=field if aggregation != "count" else None,
            filters=filters,
            status="active",
            created_at=tx.now,
            archived_at=None,
        )
    )
    return await get_metric(tx, metric_id)


async def get_metric(tx: Tx, ref: str) -> Metric:
    """A metric by id or by code."""
    row = (await tx.conn.execute(select(metrics).where(or_(metrics.c.id == ref, metrics.c.code == ref)))).first()
    if row is None:
        raise NotFound(f"no metric '{ref}'", param="metric")
    return metric_from_row(row)


async def list_metrics(tx: Tx, *, limit: int, starting_after: str | None) -> list[Metric]:
    query = newest_first(select(metrics), metrics.c.id, limit=limit, starting_after=starting_after)
    return [metric_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def archive_metric(tx: Tx, ref: str) -> Metric:
    """Archived metrics accept no new events or prices; what they recorded stays."""
    metric = await get_metric(tx, ref)
    if metric.status != "archived":
        await tx.conn.execute(
            update(metrics).where(metrics.c.id == metric.id).values(status="archived", archived_at=tx.now)
        )
    return await get_metric(tx, metric.id)


def check_filter_keys(filters: dict[str, list[str]]) -> None:
    for key in filters:
        if not _FILTER_KEY.match(key):
            raise InvalidRequest(
                f"filter key '{key}' must be 1 to 100 letters, digits, '_', '.', ':' or '-'", param="filters"
            )


def filter_text(value: Any) -> str | None:
    """A property value as filters compare it: a string as it is, a number or boolean as JSON writes it (the
    text SQL reads from the stored JSON on both engines); null, objects and lists match no filter value."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool | int):
        return json.dumps(value)
    return None


def undeclared_property(metric: Metric, properties: dict[str, Any]) -> InvalidProperty | None:
    """The error for an event property whose value its metric does not declare for that filter key, if any.
    A property left out is fine: the event then matches only prices that do not filter on it."""
    for key, allowed in metric.filters.items():
        if key in properties and filter_text(properties[key]) not in allowed:
            return InvalidProperty(
                f"properties.{key} must be one of the values metric '{metric.code}' declares: {', '.join(allowed)}",
                param=f"properties.{key}",
                details={"allowed": allowed},
            )
    return None
