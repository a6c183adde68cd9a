"""Reading events back (one event, lists, refunds through the debit-refund path) and the usage report's
set-based queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    String,
    Subquery,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    null,
    select,
    true,
    update,
)

from creditflow.db.dialect import exact_sum, exact_total
from creditflow.db.pagination import newest_first
from creditflow.db.tables import events, metrics
from creditflow.db.tx import Tx
from creditflow.db.types import UTCDateTime
from creditflow.errors import Conflict, NotFound
from creditflow.ledger.debits import refund_debit
from creditflow.ledger.models import RefundResult
from creditflow.metering.metrics import REAL_TIME, Metric
from creditflow.metering.models import EventResult
from creditflow.metering.prices import Price
from creditflow.metering.repository import EVENT_QUERY, event_from_row
from creditflow.money import MICROS


class NothingToRefund(Conflict):
    code = "nothing_to_refund"


async def get_event(tx: Tx, event_id: str) -> EventResult:
    row = (await tx.conn.execute(EVENT_QUERY.where(events.c.id == event_id))).first()
    if row is None:
        raise NotFound(f"no event '{event_id}'", param="id")
    return event_from_row(row)


async def list_events(
    tx: Tx, *, customer_id: str | None, metric_id: str | None, limit: int, starting_after: str | None
) -> list[EventResult]:
    query = newest_first(EVENT_QUERY, events.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(events.c.customer_id == customer_id)
    if metric_id is not None:
        query = query.where(events.c.metric_id == metric_id)
    return [event_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def refund_event(tx: Tx, event_id: str) -> RefundResult:
    """Refund what is left of an event's charge, through the same path as POST /v1/debits/{id}/refund.

    An event's debit may be shared with the other events of its batch (same wallet and api key): only this
    event's cost is refunded from it. The event's own `refunded` is claimed with a conditional UPDATE, so a
    second (or concurrent) refund of the same event is refused even while its debit still has other events'
    charges left to refund."""
    event = await get_event(tx, event_id)
    if event.operation_id is None or event.cost <= 0 or event.refunded >= event.cost:
        raise NothingToRefund(f"event {event_id} has no charge left to refund", param="id")
    amount = event.cost - event.refunded
    refund = await refund_debit(tx, event.operation_id, amount)
    claimed = await tx.conn.execute(
        update(events)
        .where(events.c.id == event_id, events.c.cost - events.c.refunded >= refund.amount)
        .values(refunded=events.c.refunded + refund.amount)
    )
    if claimed.rowcount != 1:
        # Refunded concurrently: the request fails and its transaction, this refund included, rolls back.
        raise NothingToRefund(f"event {event_id} has no charge left to refund", param="id")
    return refund


# Usage reports. Every key is computed in SQL from an event's wall-clock seconds in the customer's zone
# (its epoch second plus the zone's UTC offset at that moment), so buckets and periods are calendar ones
# on both engines, and only one row per group comes back.

BEFORE_RANGE = -1  # the bucket key of events before the report's start: they only set a period's baseline


@dataclass(frozen=True, slots=True)
class WallClock:
    """A time zone as SQL applies it: `offsets` are (first epoch second, UTC offset in seconds), ascending;
    the first offset also applies before its second."""

    offsets: tuple[tuple[int, int], ...]

    def seconds(self, dialect: str, timestamp: ColumnElement[Any]) -> ColumnElement[int]:
        epoch = _epoch_seconds(dialect, timestamp)
        (_, first), *changes = self.offsets
        if not changes:
            return epoch + first
        whens = []
        previous = first
        for second, offset in changes:
            whens.append((epoch < second, previous))
            previous = offset
        return epoch + case(*whens, else_=previous)


def _epoch_seconds(dialect: str, timestamp: ColumnElement[Any]) -> ColumnElement[int]:
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", timestamp)), BigInteger)
    # SQLite keeps instants as fixed-width ISO text; strftime would round the microseconds up, so they are cut.
    return cast(func.strftime("%s", func.substr(timestamp, 1, 19)), BigInteger)


def _bucket_key(group_by: str, wall: ColumnElement[int]) -> ColumnElement[int]:
    """Local hours or days since 1970-01-01 (wall clock); one bucket for the whole range."""
    if group_by == "hour":
        return wall // 3600
    if group_by == "day":
        return wall // 86400
    return literal(0, BigInteger)


def _period_key(dialect: str, period: str, wall: ColumnElement[int]) -> ColumnElement[int]:
    """Which calendar period of `period` an event falls in, as periods.period_start draws them."""
    day = wall // 86400
    if period == "day":
        return day
    if period == "week":
        return (day + 3) // 7  # 1970-01-01 was a Thursday; weeks start on Monday
    if period == "month":
        if dialect == "postgresql":
            local = func.timezone("UTC", func.to_timestamp(wall))
            return cast(extract("year", local) * 12 + extract("month", local), BigInteger)
        year = cast(func.strftime("%Y", wall, "unixepoch"), BigInteger)
        return year * 12 + cast(func.strftime("%m", wall, "unixepoch"), BigInteger)
    return literal(0, BigInteger)


def _property_text(dialect: str, key: str) -> ColumnElement[str]:
    """An event property as metrics.filter_text writes it, read from the stored JSON."""
    if dialect == "postgresql":
        return events.c.properties[key].as_string()
    path = f'$."{key}"'
    kind = func.json_type(events.c.properties, path)
    # SQLite's json_extract gives 1 and 0 for true and false; PostgreSQL and filter_text give the JSON words.
    return case(
        (kind == "true", "true"),
        (kind == "false", "false"),
        else_=cast(func.json_extract(events.c.properties, path), String),
    )


def _matches(dialect: str, price: Price) -> ColumnElement[bool]:
    return and_(true(), *[_property_text(dialect, key).in_(values) for key, values in price.filters.items()])


class ChargedUsage(NamedTuple):
    metric_id: str
    currency: str | None
    bucket: Any
    units: int
    events: int
    cost: int


async def charged_usage(
    tx: Tx,
    *,
    customer_id: str,
    metric_id: str | None,
    start: datetime,
    end: datetime,
    group_by: str,
    clock: WallClock,
) -> list[ChargedUsage]:
    """Count and sum metrics, whose events carry their charge: (metric_id, currency, bucket, units, events,
    cost net of refunds) per group."""
    dialect = tx.conn.dialect.name
    rows = (
        select(
            events.c.metric_id,
            events.c.currency,
            events.c.quantity,
            (events.c.cost - events.c.refunded).label("net"),
            _bucket_key(group_by, clock.seconds(dialect, events.c.timestamp)).label("bucket"),
        )
        .select_from(events.join(metrics, metrics.c.id == events.c.metric_id))
        .where(
            events.c.customer_id == customer_id,
            events.c.timestamp >= start,
            events.c.timestamp < end,
            metrics.c.aggregation.in_(REAL_TIME),
            *([events.c.metric_id == metric_id] if metric_id else []),
        )
        .subquery()
    )
    # Sums free of 64-bit overflow: each event is bounded, but a long range adds many of them up.
    query = select(
        rows.c.metric_id,
        rows.c.currency,
        rows.c.bucket,
        *exact_sum(rows.c.quantity),
        func.count().label("events"),
        *exact_sum(rows.c.net),
    ).group_by(rows.c.metric_id, rows.c.currency, rows.c.bucket)
    return [
        ChargedUsage(metric_id, currency, bucket, exact_total(units_high, units_low), count,
                     exact_total(cost_high, cost_low))
        for metric_id, currency, bucket, units_high, units_low, count, cost_high, cost_low
        in await tx.conn.execute(query)
    ]


async def deferred_metric_ids(
    tx: Tx, *, customer_id: str, metric_id: str | None, start: datetime, end: datetime
) -> list[str]:
    """The max, unique_count and latest metrics the customer has events of in [start, end)."""
    query = (
        select(events.c.metric_id)
        .select_from(events.join(metrics, metrics.c.id == events.c.metric_id))
        .where(
            events.c.customer_id == customer_id,
            events.c.timestamp >= start,
            events.c.timestamp < end,
            metrics.c.aggregation.not_in(REAL_TIME),
            *([events.c.metric_id == metric_id] if metric_id else []),
        )
        .distinct()
    )
    return list((await tx.conn.execute(query)).scalars().all())


def _priced_events(
    dialect: str, metric: Metric, prices: list[Price], *, customer_id: str, since: datetime, end: datetime
) -> Subquery:
    """A metric's events in [since, end) with the price each takes (the first in `prices` order it matches,
    as rating picks them), that price's currency, and the metric's value per event."""
    price_id: ColumnElement[Any] = null()
    currency: ColumnElement[Any] = null()
    if prices:
        price_id = case(*[(_matches(dialect, p), literal(p.id)) for p in prices], else_=null())
        currency = case(*[(_matches(dialect, p), literal(p.currency)) for p in prices], else_=null())
    value = _property_text(dialect, metric.field or "") if metric.aggregation == "unique_count" else null()
    return (
        select(
            events.c.id,
            events.c.timestamp,
            events.c.quantity,
            price_id.label("price_id"),
            currency.label("currency"),
            value.label("value"),
        )
        .where(
            events.c.customer_id == customer_id,
            events.c.metric_id == metric.id,
            events.c.timestamp >= since,
            events.c.timestamp < end,
        )
        .subquery()
    )


async def deferred_units(
    tx: Tx,
    metric: Metric,
    prices: list[Price],
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    group_by: str,
    clock: WallClock,
) -> list[Any]:
    """A max, unique_count or latest metric's (currency, bucket, events, units) in [start, end): units are its
    aggregate over the bucket's events (their max, their number of distinct values, the latest one's value)."""
    dialect = tx.conn.dialect.name
    priced = _priced_events(dialect, metric, prices, customer_id=customer_id, since=start, end=end)
    keyed = select(
        priced.c.id,
        priced.c.timestamp,
        priced.c.quantity,
        priced.c.value,
        priced.c.currency,
        _bucket_key(group_by, clock.seconds(dialect, priced.c.timestamp)).label("bucket"),
    ).subquery()
    if metric.aggregation == "latest":
        ranked = _ranked(keyed, [keyed.c.currency, keyed.c.bucket], with_count=True)
        query = select(ranked.c.currency, ranked.c.bucket, ranked.c.events, ranked.c.quantity.label("units")).where(
            ranked.c.rank == 1
        )
        return list((await tx.conn.execute(query)).all())
    units = (
        func.count(keyed.c.value.distinct()) * MICROS
        if metric.aggregation == "unique_count"
        else func.max(keyed.c.quantity)
    )
    query = select(keyed.c.currency, keyed.c.bucket, func.count().label("events"), units.label("units")).group_by(
        keyed.c.currency, keyed.c.bucket
    )
    return list((await tx.conn.execute(query)).all())


async def deferred_aggregates(
    tx: Tx,
    metric: Metric,
    prices: list[Price],
    *,
    customer_id: str,
    start: datetime,
    end: datetime,
    group_by: str,
    clock: WallClock,
    period_starts: dict[str, datetime],
) -> list[Any]:
    """A max, unique_count or latest metric's aggregate per (price_id, period, bucket), from the start of each
    price's period that contains `start` (those earlier events are in bucket BEFORE_RANGE): the max, the latest
    value, or the number of distinct values first seen in the bucket."""
    dialect = tx.conn.dialect.name
    since = min(period_starts.values())
    priced = _priced_events(dialect, metric, prices, customer_id=customer_id, since=since, end=end)
    wall = clock.seconds(dialect, priced.c.timestamp)
    keyed = (
        select(
            priced.c.id,
            priced.c.timestamp,
            priced.c.quantity,
            priced.c.value,
            priced.c.price_id,
            case((priced.c.timestamp < start, BEFORE_RANGE), else_=_bucket_key(group_by, wall)).label("bucket"),
            case({p.id: _period_key(dialect, p.period, wall) for p in prices}, value=priced.c.price_id).label("period"),
        )
        .where(
            priced.c.price_id.is_not(None),
            priced.c.timestamp
            >= case({p.id: literal(period_starts[p.id], UTCDateTime()) for p in prices}, value=priced.c.price_id),
        )
        .subquery()
    )
    if metric.aggregation == "latest":
        ranked = _ranked(keyed, [keyed.c.price_id, keyed.c.period, keyed.c.bucket])
        query = select(ranked.c.price_id, ranked.c.period, ranked.c.bucket, ranked.c.quantity.label("value")).where(
            ranked.c.rank == 1
        )
    elif metric.aggregation == "unique_count":
        first_seen = (
            select(keyed.c.price_id, keyed.c.period, func.min(keyed.c.bucket).label("bucket"))
            .where(keyed.c.value.is_not(None))
            .group_by(keyed.c.price_id, keyed.c.period, keyed.c.value)
            .subquery()
        )
        query = select(
            first_seen.c.price_id, first_seen.c.period, first_seen.c.bucket, (func.count() * MICROS).label("value")
        ).group_by(first_seen.c.price_id, first_seen.c.period, first_seen.c.bucket)
    else:
        query = select(
            keyed.c.price_id, keyed.c.period, keyed.c.bucket, func.max(keyed.c.quantity).label("value")
        ).group_by(keyed.c.price_id, keyed.c.period, keyed.c.bucket)
    return list((await tx.conn.execute(query)).all())


def _ranked(rows: Subquery, partition: list[ColumnElement[Any]], *, with_count: bool = False) -> Subquery:
    """`rows` numbered from the latest (by timestamp, then id) within each `partition` group."""
    extra = [func.count().over(partition_by=partition).label("events")] if with_count else []
    return select(
        *partition,
        rows.c.quantity,
        func.row_number()
        .over(partition_by=partition, order_by=(rows.c.timestamp.desc(), rows.c.id.desc()))
        .label("rank"),
        *extra,
    ).subquery()
