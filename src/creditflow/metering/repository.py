"""Metering queries: metrics and customers by reference, recorded events, usage aggregates."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, func, or_, select, update
from sqlalchemy.dialects import sqlite

from creditflow.db.dialect import MappingRow, fetch_mappings, one_of_param
from creditflow.db.tables import customers, events, metrics, plans, subscriptions, usage_aggregates, usage_closes
from creditflow.db.tx import Tx
from creditflow.db.types import UTCDateTime
from creditflow.metering.metrics import Metric, metric_from_row
from creditflow.metering.models import Aggregate, EventRequest, EventResult
from creditflow.metering.prices import Price


# The ingestion path's lookups are built once per dialect and run with fetch_mappings (on PostgreSQL,
# straight on the driver with = ANY(array)): building and compiling IN (...) lists per request cost more
# than the queries.
@functools.cache
def _metrics_query(dialect: str) -> Select[Any]:
    return select(metrics).where(
        or_(one_of_param(dialect, metrics.c.code, "refs"), one_of_param(dialect, metrics.c.id, "refs"))
    )


@functools.cache
def _customers_query(dialect: str) -> Select[Any]:
    return select(customers.c.id, customers.c.external_id, customers.c.currency, customers.c.timezone).where(
        or_(one_of_param(dialect, customers.c.id, "refs"), one_of_param(dialect, customers.c.external_id, "refs"))
    )


@functools.cache
def _existing_events_query(dialect: str) -> Select[Any]:
    return EVENT_QUERY.where(
        one_of_param(dialect, events.c.customer_id, "customers"),
        one_of_param(dialect, events.c.transaction_id, "transactions"),
    )


@functools.cache
def _aggregates_query(dialect: str) -> Select[Any]:
    return select(usage_aggregates).where(
        one_of_param(dialect, usage_aggregates.c.customer_id, "customers"),
        one_of_param(dialect, usage_aggregates.c.price_id, "prices"),
    )


async def metrics_by_ref(tx: Tx, refs: set[str]) -> dict[str, Metric]:
    rows = await fetch_mappings(tx.conn, _metrics_query(tx.conn.dialect.name), {"refs": sorted(refs)})
    found: dict[str, Metric] = {}
    for row in rows:
        metric = metric_from_row(MappingRow(row))
        found[metric.code] = found[metric.id] = metric
    return found


@dataclass(frozen=True, slots=True)
class CustomerRef:
    id: str
    external_id: str | None
    currency: str
    timezone: str


async def customers_by_ref(tx: Tx, refs: set[str]) -> dict[str, CustomerRef]:
    """The customers these ids or external ids name, under each of the two."""
    rows = await fetch_mappings(tx.conn, _customers_query(tx.conn.dialect.name), {"refs": sorted(refs)})
    found: dict[str, CustomerRef] = {}
    for row in rows:
        customer = CustomerRef(row["id"], row["external_id"], row["currency"], row["timezone"])
        found[customer.id] = customer
        if customer.external_id is not None:
            found[customer.external_id] = customer
    return found


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A customer's subscription to a plan, as rating needs it: its billing periods."""

    anchor_at: datetime
    interval: str


# Subscriptions whose plan's usage prices apply to usage now. A suspended one's do not: until it is paid
# again, its customer's usage takes the default prices.
PRICED_SUBSCRIPTIONS = ("trialing", "active", "past_due")


async def subscribed_plans(
    tx: Tx, customer_ids: set[str], candidates: list[Price], *, during: tuple[datetime, datetime] | None = None
) -> dict[str, dict[str, Subscribed]]:
    """The plans each customer subscribes to, for rating, with each one's billing anchor and interval: now,
    or with `during`, at any time in that window (a usage report, a period close: the subscription may have
    ended since). No query when no candidate price is a plan's."""
    if not customer_ids or not any(p.plan_id for p in candidates):
        return {}
    if during is None:
        live = subscriptions.c.status.in_(PRICED_SUBSCRIPTIONS)
    else:
        start, end = during
        live = and_(
            subscriptions.c.anchor_at < end,
            or_(subscriptions.c.canceled_at.is_(None), subscriptions.c.canceled_at > start),
        )
    rows = await tx.conn.execute(
        select(subscriptions.c.customer_id, subscriptions.c.plan_id, subscriptions.c.anchor_at, plans.c.interval)
        .select_from(subscriptions.join(plans, plans.c.id == subscriptions.c.plan_id))
        .where(subscriptions.c.customer_id.in_(customer_ids), live)
        .order_by(subscriptions.c.anchor_at.desc())
    )
    found: dict[str, dict[str, Subscribed]] = {}
    for customer_id, plan_id, anchor_at, interval in rows.all():
        # Two subscriptions to one plan: the earliest anchored counts (rows come newest first).
        found.setdefault(customer_id, {})[plan_id] = Subscribed(anchor_at, interval)
    return found

# PostgreSQL: one probe of the (customer_id, transaction_id) unique index per pair, whatever the statistics
# say. Statements are prepared once per connection and their plan kept, often while the events table is
# still empty and has no statistics; planned then, `customer_id = ANY(...) AND transaction_id = ANY(...)`
# (or a plain equality join) ends up scanning all of a customer's events through another customer_id index,
# a cost that grows with every event. Here the transaction_id is a range of one value, ordered: only the
# unique index returns that order without a sort, so it is the cheapest plan even on an empty table. The
# LATERAL subquery (kept apart by its LIMIT) makes each pair its own index probe.
_POSTGRES_EXISTING_EVENTS = """
SELECT e.*, metrics.code AS metric_code
FROM unnest($1::text[], $2::text[]) AS k(customer_id, transaction_id)
CROSS JOIN LATERAL (
    SELECT * FROM events
    WHERE events.customer_id = k.customer_id
      AND events.transaction_id >= k.transaction_id AND events.transaction_id <= k.transaction_id
    ORDER BY events.transaction_id
    LIMIT 1
) AS e
JOIN metrics ON metrics.id = e.metric_id
"""


async def existing_events(tx: Tx, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], EventResult]:
    """Events already recorded under these (customer id, transaction_id) pairs."""
    if not pairs:
        return {}
    driver = await _driver_in_transaction(tx)
    if driver is not None:
        keys = sorted(pairs)
        rows = await driver.fetch(_POSTGRES_EXISTING_EVENTS, [c for c, _ in keys], [t for _, t in keys])
    else:
        # SQLite searches its unique index with both IN lists.
        rows = await fetch_mappings(
            tx.conn,
            _existing_events_query(tx.conn.dialect.name),
            {"customers": sorted({c for c, _ in pairs}), "transactions": sorted({t for _, t in pairs})},
        )
    found = {(row["customer_id"], row["transaction_id"]): event_from_row(MappingRow(row)) for row in rows}
    return {pair: event for pair, event in found.items() if pair in pairs}


async def _driver_in_transaction(tx: Tx) -> Any:
    """PostgreSQL's driver connection when a transaction is open on it (statements then go straight to it);
    None on SQLite."""
    if tx.conn.dialect.name != "postgresql":
        return None
    driver = (await tx.conn.get_raw_connection()).driver_connection
    return driver if driver.is_in_transaction() else None


async def load_aggregates(tx: Tx, keys: set[tuple[str, str, datetime]]) -> dict[tuple[str, str, datetime], Aggregate]:
    """Running usage per (customer id, price id, period start); absent keys have no usage yet."""
    if not keys:
        return {}
    rows = await fetch_mappings(
        tx.conn,
        _aggregates_query(tx.conn.dialect.name),
        {"customers": sorted({k[0] for k in keys}), "prices": sorted({k[1] for k in keys})},
    )
    found = {}
    for row in rows:
        key = (row["customer_id"], row["price_id"], row["period_start"])
        if key in keys:
            found[key] = Aggregate(row["units"], row["events"], row["cost"], exists=True)
    return found


async def save_aggregates(tx: Tx, aggregates: dict[tuple[str, str, datetime], Aggregate]) -> None:
    new = [
        {
            "customer_id": c,
            "price_id": p,
            "period_start": s,
            "units": a.units,
            "events": a.events,
            "cost": a.cost,
            "updated_at": tx.now,
        }
        for (c, p, s), a in aggregates.items()
        if not a.exists and a.events
    ]
    changed = [
        {
            "k_customer": c,
            "k_price": p,
            "k_start": s,
            "k_units": a.units,
            "k_events": a.events,
            "k_cost": a.cost,
            "k_now": tx.now,
        }
        for (c, p, s), a in aggregates.items()
        if a.exists
    ]
    if new:
        await tx.conn.execute(usage_aggregates.insert(), new)
    if changed:
        await tx.conn.execute(_AGGREGATE_UPDATE, changed)


_AGGREGATE_UPDATE = (
    update(usage_aggregates)
    .where(
        and_(
            usage_aggregates.c.customer_id == bindparam("k_customer"),
            usage_aggregates.c.price_id == bindparam("k_price"),
            usage_aggregates.c.period_start == bindparam("k_start"),
        )
    )
    .values(
        units=bindparam("k_units"),
        events=bindparam("k_events"),
        cost=bindparam("k_cost"),
        updated_at=bindparam("k_now"),
    )
)


@dataclass(slots=True)
class NewEvents:
    """Events to insert, column by column: PostgreSQL takes each column as one array, SQLite the rows."""

    ids: list[str] = field(default_factory=list)
    customer_ids: list[str] = field(default_factory=list)
    transaction_ids: list[str] = field(default_factory=list)
    metric_ids: list[str] = field(default_factory=list)
    timestamps: list[datetime] = field(default_factory=list)
    properties: list[str] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    price_ids: list[str | None] = field(default_factory=list)
    period_starts: list[datetime | None] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    currencies: list[str | None] = field(default_factory=list)
    operation_ids: list[str | None] = field(default_factory=list)
    api_key_ids: list[str | None] = field(default_factory=list)

    def add(self, request: EventRequest, metric_id: str, period_start: datetime | None, result: EventResult) -> None:
        self.ids.append(result.id)
        self.customer_ids.append(result.customer_id)
        self.transaction_ids.append(result.transaction_id)
        self.metric_ids.append(metric_id)
        self.timestamps.append(result.timestamp)
        # The same text SQLAlchemy's JSON type would store.
        self.properties.append(json.dumps(request.properties) if request.properties else "{}")
        self.quantities.append(result.quantity)
        self.price_ids.append(result.price_id)
        self.period_starts.append(period_start)
        self.costs.append(result.cost)
        self.currencies.append(result.currency)
        self.operation_ids.append(result.operation_id)
        self.api_key_ids.append(request.api_key)


_EVENT_COLUMNS = (
    "id", "customer_id", "transaction_id", "metric_id", "timestamp", "properties", "quantity", "price_id",
    "period_start", "cost", "currency", "operation_id", "api_key_id",
)
_EVENT_ARRAY_TYPES = (
    "text", "text", "text", "text", "timestamptz", "text", "bigint", "text", "timestamptz", "bigint", "text", "text",
    "text",
)
_AGGREGATE_COLUMNS = ("customer_id", "price_id", "period_start", "units", "events", "cost")
_AGGREGATE_ARRAY_TYPES = ("text", "text", "timestamptz", "bigint", "bigint", "bigint")
_QUOTED_EVENT_COLUMNS = ", ".join(f'"{c}"' for c in _EVENT_COLUMNS)
_AGGREGATE_FIRST = len(_EVENT_COLUMNS) + 2
# Whether insert_events itself finds the events already recorded (PostgreSQL: ON CONFLICT DO NOTHING on the
# (customer_id, transaction_id) unique index), so that no lookup is needed beforehand.
INSERT_FINDS_DUPLICATES = {"postgresql": True, "sqlite": False}

# One statement on PostgreSQL: the events, each skipped when its (customer_id, transaction_id) is taken (the
# ids that went in come back), and every touched usage aggregate with its new running totals (absolute
# values: the customer's wallets are locked, so nothing else changes them meanwhile; written again with
# the right values if the request is planned anew).
_POSTGRES_EVENTS_WRITE = f"""
WITH aggregate_changes AS (
    INSERT INTO usage_aggregates ({", ".join(_AGGREGATE_COLUMNS)}, updated_at)
    SELECT {", ".join(_AGGREGATE_COLUMNS)}, $1
    FROM unnest({", ".join(f"${_AGGREGATE_FIRST + i}::{t}[]" for i, t in enumerate(_AGGREGATE_ARRAY_TYPES))})
        AS a({", ".join(_AGGREGATE_COLUMNS)})
    ON CONFLICT (customer_id, price_id, period_start) DO UPDATE
    SET units = excluded.units, events = excluded.events, cost = excluded.cost, updated_at = excluded.updated_at
)
INSERT INTO events ({_QUOTED_EVENT_COLUMNS}, refunded, created_at)
SELECT {_QUOTED_EVENT_COLUMNS.replace('"properties"', '"properties"::json')}, 0, $1
FROM unnest({", ".join(f"${2 + i}::{t}[]" for i, t in enumerate(_EVENT_ARRAY_TYPES))}) AS e({_QUOTED_EVENT_COLUMNS})
ON CONFLICT (customer_id, transaction_id) DO NOTHING
RETURNING id
"""
_SQLITE_EVENT_INSERT = (
    f"INSERT INTO events ({_QUOTED_EVENT_COLUMNS}, refunded, created_at) "
    f"VALUES ({', '.join('?' for _ in _EVENT_COLUMNS)}, 0, ?)"
)


async def insert_events(tx: Tx, new: NewEvents, aggregates: dict[tuple[str, str, datetime], Aggregate]) -> set[str]:
    """Insert the new events and save the usage aggregates they moved; returns the ids of the events skipped.
    On PostgreSQL an event whose (customer, transaction_id) is already recorded is skipped. On SQLite every
    event goes in (duplicates were looked up before)."""
    if not new.ids:
        return set()  # aggregates only move with new events
    if tx.conn.dialect.name == "postgresql":
        driver = await _driver_in_transaction(tx)
        if driver is None:
            raise RuntimeError("event writes must run inside the caller's transaction")
        moved = [(key, a) for key, a in aggregates.items() if a.events]
        rows = await driver.fetch(
            _POSTGRES_EVENTS_WRITE,
            tx.now,
            new.ids, new.customer_ids, new.transaction_ids, new.metric_ids, new.timestamps, new.properties,
            new.quantities, new.price_ids, new.period_starts, new.costs, new.currencies, new.operation_ids,
            new.api_key_ids,
            [k[0] for k, _ in moved], [k[1] for k, _ in moved], [k[2] for k, _ in moved],
            [a.units for _, a in moved], [a.events for _, a in moved], [a.cost for _, a in moved],
        )
        return set() if len(rows) == len(new.ids) else set(new.ids) - {row["id"] for row in rows}
    stamp = _SqliteTimes()
    now = stamp(tx.now)
    rows = [
        (i, c, t, m, stamp(ts), p, q, pr, stamp(ps) if ps is not None else None, cost, cur, op, key, now)
        for i, c, t, m, ts, p, q, pr, ps, cost, cur, op, key in zip(
            new.ids, new.customer_ids, new.transaction_ids, new.metric_ids, new.timestamps, new.properties,
            new.quantities, new.price_ids, new.period_starts, new.costs, new.currencies, new.operation_ids,
            new.api_key_ids, strict=True,
        )
    ]
    await tx.conn.exec_driver_sql(_SQLITE_EVENT_INSERT, rows)
    await save_aggregates(tx, aggregates)
    return set()


async def delete_events(tx: Tx, event_ids: list[str]) -> None:
    """Take out events this transaction inserted (a request planned anew); nobody else has seen them."""
    if event_ids:
        await tx.conn.execute(events.delete().where(events.c.id.in_(event_ids)))


async def delete_aggregates(tx: Tx, keys: list[tuple[str, str, datetime]]) -> None:
    """Take out usage aggregates this transaction created (a request planned anew)."""
    for customer_id, price_id, start in keys:
        await tx.conn.execute(
            usage_aggregates.delete().where(
                usage_aggregates.c.customer_id == customer_id,
                usage_aggregates.c.price_id == price_id,
                usage_aggregates.c.period_start == start,
            )
        )


_SQLITE = sqlite.dialect()


class _SqliteTimes:
    """Instants as UTCDateTime stores them on SQLite, each distinct one formatted once."""

    def __init__(self) -> None:
        self._seen: dict[datetime, str] = {}

    def __call__(self, moment: datetime) -> str:
        text = self._seen.get(moment)
        if text is None:
            text = self._seen[moment] = UTCDateTime().process_bind_param(moment, _SQLITE) or ""
        return text


EVENT_QUERY = select(events, metrics.c.code.label("metric_code")).select_from(
    events.join(metrics, metrics.c.id == events.c.metric_id)
)


def event_from_row(row: Any) -> EventResult:
    """An event as read with EVENT_QUERY."""
    return EventResult(
        id=row.id,
        customer_id=row.customer_id,
        metric=row.metric_code,
        transaction_id=row.transaction_id,
        timestamp=row.timestamp,
        properties=row.properties,
        quantity=row.quantity,
        cost=row.cost,
        currency=row.currency,
        price_id=row.price_id,
        operation_id=row.operation_id,
        refunded=row.refunded,
        created_at=row.created_at,
    )


async def closed_until(tx: Tx, customer_ids: set[str]) -> dict[str, datetime]:
    """The end of each customer's latest closed usage period (billing/period_close.py): events before it are
    refused."""
    if not customer_ids:
        return {}
    rows = await tx.conn.execute(
        select(usage_closes.c.customer_id, func.max(usage_closes.c.period_end))
        .where(usage_closes.c.customer_id.in_(customer_ids))
        .group_by(usage_closes.c.customer_id)
    )
    return {customer_id: end for customer_id, end in rows}
