"""Prices: what a metric's usage costs, per currency, optionally per property values, for one customer or for
the subscribers of one plan."""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select, update

from creditflow.customers.service import get_customer
from creditflow.db.dialect import MappingRow, fetch_mappings, one_of_param
from creditflow.db.pagination import newest_first
from creditflow.db.tables import prices
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.metering.metrics import Metric, check_filter_keys, filter_text, get_metric
from creditflow.periods import PERIODS
from creditflow.pricing.models import parse_price_properties
from creditflow.pricing.specs import PriceSpec
from creditflow.subscriptions.plans import get_plan


class MetricArchived(Conflict):
    code = "metric_archived"


@dataclass(slots=True)
class Price:
    id: str
    metric_id: str
    customer_id: str | None
    currency: str
    model: str
    properties: dict[str, Any]
    free_units_per_period: int
    period: str
    filters: dict[str, list[str]]
    status: str
    created_at: datetime
    archived_at: datetime | None
    plan_id: str | None = None

    @property
    def spec(self) -> PriceSpec:
        return _spec(self.model, json.dumps(self.properties, sort_keys=True))

    def matches(self, properties: dict[str, Any]) -> bool:
        return all(filter_text(properties.get(key)) in values for key, values in self.filters.items())


@functools.lru_cache(maxsize=4096)
def _spec(model: str, properties: str) -> PriceSpec:
    """Prices never change once created, so their parsed form is cached by content."""
    return parse_price_properties(model, json.loads(properties))


def price_from_row(row: Any) -> Price:
    return Price(
        id=row.id,
        metric_id=row.metric_id,
        customer_id=row.customer_id,
        currency=row.currency,
        model=row.model,
        properties=row.properties,
        free_units_per_period=row.free_units_per_period,
        period=row.period,
        filters=row.filters,
        status=row.status,
        created_at=row.created_at,
        archived_at=row.archived_at,
        plan_id=row.plan_id,
    )


async def create_price(
    tx: Tx,
    *,
    metric: str,
    currency: str,
    model: str,
    properties: dict[str, Any],
    free_units_per_period: int,
    period: str,
    filters: dict[str, list[str]],
    customer: str | None,
    plan: str | None = None,
) -> Price:
    found = await get_metric(tx, metric)
    if found.status != "active":
        raise MetricArchived(f"metric '{found.code}' is archived", param="metric")
    if period not in PERIODS:
        raise InvalidRequest(f"period must be one of {', '.join(PERIODS)}", param="period")
    stored = json.loads(json.dumps(properties, default=str))
    parse_price_properties(model, stored)
    if model == "percentage" and found.aggregation != "sum":
        raise InvalidRequest("a percentage price needs a sum metric (the percentage of its field)", param="model")
    check_filter_keys(filters)
    _check_declared(found, filters)
    if customer and plan:
        raise InvalidRequest("a price is for one customer or for one plan's subscribers, not both", param="plan")
    customer_id = (await get_customer(tx, customer)).id if customer else None
    plan_id = (await get_plan(tx, plan)).id if plan else None
    price_id = new_id("prc")
    await tx.conn.execute(
        prices.insert().values(
            id=price_id,
            metric_id=found.id,
            customer_id=customer_id,
            currency=currency,
            model=model,
            properties=stored,
            free_units_per_period=free_units_per_period,
            period=period,
            filters=filters,
            status="active",
            created_at=tx.now,
            archived_at=None,
            plan_id=plan_id,
        )
    )
    return await get_price(tx, price_id)


def _check_declared(metric: Metric, filters: dict[str, list[str]]) -> None:
    """A metric that declares filters bounds its prices' filters to those keys and values; one that declares
    none lets its prices filter on anything."""
    if not metric.filters:
        return
    for key, values in filters.items():
        declared = metric.filters.get(key)
        if declared is None:
            raise InvalidRequest(
                f"filters.{key}: metric '{metric.code}' declares no filter '{key}' "
                f"(it declares {', '.join(metric.filters)})",
                param="filters",
            )
        for value in values:
            if value not in declared:
                raise InvalidRequest(
                    f"filters.{key}: '{value}' is not a value metric '{metric.code}' declares "
                    f"({', '.join(declared)})",
                    param="filters",
                )


async def get_price(tx: Tx, price_id: str) -> Price:
    row = (await tx.conn.execute(select(prices).where(prices.c.id == price_id))).first()
    if row is None:
        raise NotFound(f"no price '{price_id}'", param="id")
    return price_from_row(row)


async def list_prices(
    tx: Tx,
    *,
    metric_id: str | None,
    customer_id: str | None,
    limit: int,
    starting_after: str | None,
    plan_id: str | None = None,
) -> list[Price]:
    query = newest_first(select(prices), prices.c.id, limit=limit, starting_after=starting_after)
    if metric_id is not None:
        query = query.where(prices.c.metric_id == metric_id)
    if customer_id is not None:
        query = query.where(prices.c.customer_id == customer_id)
    if plan_id is not None:
        query = query.where(prices.c.plan_id == plan_id)
    return [price_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def plan_price_ids(tx: Tx, plan_ids: list[str]) -> dict[str, list[str]]:
    """The active usage prices of each plan, oldest first."""
    if not plan_ids:
        return {}
    rows = await tx.conn.execute(
        select(prices.c.plan_id, prices.c.id)
        .where(prices.c.plan_id.in_(plan_ids), prices.c.status == "active")
        .order_by(prices.c.created_at, prices.c.id)
    )
    found: dict[str, list[str]] = {}
    for plan_id, price_id in rows.all():
        found.setdefault(plan_id, []).append(price_id)
    return found


async def archive_price(tx: Tx, price_id: str) -> Price:
    price = await get_price(tx, price_id)
    if price.status != "archived":
        await tx.conn.execute(
            update(prices).where(prices.c.id == price_id).values(status="archived", archived_at=tx.now)
        )
    return await get_price(tx, price_id)


@functools.cache
def _active_prices_query(dialect: str) -> Select[Any]:
    """Built once per dialect: events look prices up on every request."""
    return select(prices).where(one_of_param(dialect, prices.c.metric_id, "metric_ids"), prices.c.status == "active")


async def active_prices(tx: Tx, metric_ids: list[str]) -> list[Price]:
    rows = await fetch_mappings(tx.conn, _active_prices_query(tx.conn.dialect.name), {"metric_ids": list(metric_ids)})
    return [price_from_row(MappingRow(r)) for r in rows]



def by_precedence(
    candidates: Sequence[Price],
    *,
    metric_id: str,
    customer_id: str,
    currency: str,
    plan_ids: frozenset[str] = frozenset(),
) -> list[Price]:
    """The prices that may apply to a customer's events of a metric, most specific first: the customer's own,
    then those of the plans it subscribes to (`plan_ids`), then the default; within each, the one with the
    most property filters, then one in the customer's currency, then the oldest. An event takes the first
    that matches its properties."""
    eligible = [
        p for p in candidates
        if p.metric_id == metric_id
        and p.customer_id in (None, customer_id)
        and (p.plan_id is None or p.plan_id in plan_ids)
    ]
    return sorted(eligible, key=lambda p: (_owner_rank(p), -len(p.filters), p.currency != currency, p.created_at, p.id))


def _owner_rank(price: Price) -> int:
    if price.customer_id is not None:
        return 0
    return 1 if price.plan_id is not None else 2
