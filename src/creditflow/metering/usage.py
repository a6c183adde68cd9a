"""Usage reports: units, event count and cost of one customer's events per calendar bucket or per metric.

Buckets are calendar hours or days on the customer's wall clock (a day of a DST change has 23 or 25 hours;
the repeated hour is one two-hour bucket); group_by=metric gives one bucket for the whole range. Only
buckets with events are listed. A row is one (bucket, metric, currency).

Count and sum metrics were rated when their events arrived: a row's cost is what those events were charged,
net of refunds (a volume credit back counts as negative). Max, unique_count and latest metrics are charged
when their billing period closes, so they are priced here, exactly as that close will price them: the
aggregate over each of the price's periods is priced with the price model, and each bucket gets what its
events add, price(aggregate at the bucket's end) - price(aggregate before it). The buckets of a period then
add up to the period's charge, and a report over a whole period shows what its close will charge.

Everything is grouped in SQL (one row per bucket and price comes back, never the events), the same
statements on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creditflow.customers.service import Customer, get_customer
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest
from creditflow.metering import queries, repository
from creditflow.metering.metrics import Metric, get_metric
from creditflow.metering.prices import Price, active_prices, by_precedence
from creditflow.periods import period_start
from creditflow.pricing.models import incremental_cost

GROUP_BYS = ("hour", "day", "metric")
# Hour buckets answer at most 8,784 rows per metric; days and whole-range reports may look back ten years.
MAX_RANGE = {"hour": timedelta(days=366), "day": timedelta(days=3660), "metric": timedelta(days=3660)}
_WALL_EPOCH = datetime(1970, 1, 1)
_BUCKET_SIZE = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(slots=True)
class UsageRow:
    start: datetime
    end: datetime
    metric: str
    currency: str | None
    units: int
    events: int
    cost: int


@dataclass(slots=True)
class UsageReport:
    customer_id: str
    timezone: str
    start: datetime
    end: datetime
    group_by: str
    metric: str | None
    rows: list[UsageRow]


@dataclass(slots=True)
class _Tally:
    units: int = 0
    events: int = 0
    cost: int = 0


@dataclass(frozen=True, slots=True)
class _Scope:
    """What one report reads: a customer's events in [start, end), bucketed on its wall clock."""

    customer: Customer
    zone: ZoneInfo
    start: datetime
    end: datetime
    group_by: str
    clock: queries.WallClock


_Tallies = dict[tuple[int, str, str | None], _Tally]


async def usage_report(
    tx: Tx,
    customer: str,
    *,
    start: datetime | None,
    end: datetime | None,
    metric: str | None,
    group_by: str,
) -> UsageReport:
    """`start` defaults to the start of the customer's current calendar month (in its time zone), `end` to now."""
    found = await get_customer(tx, customer)
    only = await get_metric(tx, metric) if metric else None
    if group_by not in GROUP_BYS:
        raise InvalidRequest(f"group_by must be one of {', '.join(GROUP_BYS)}", param="group_by")
    zone = ZoneInfo(found.timezone)
    start = (start or period_start("month", tx.now, found.timezone)).astimezone(UTC)
    end = (end or tx.now).astimezone(UTC)
    if start > end:
        raise InvalidRequest("from must not be after to (from defaults to the start of this month)", param="from")
    if end - start > MAX_RANGE[group_by]:
        days = MAX_RANGE[group_by].days
        raise InvalidRequest(
            f"a report by {group_by} covers at most {days} days; narrow from and to",
            param="from",
            details={"max_days": days},
        )
    scope = _Scope(found, zone, start, end, group_by, queries.WallClock(_utc_offsets(zone, start, end)))
    tallies: _Tallies = defaultdict(_Tally)
    metric_id = only.id if only else None
    charged = await queries.charged_usage(
        tx, customer_id=found.id, metric_id=metric_id, start=start, end=end, group_by=group_by, clock=scope.clock
    )
    deferred = await queries.deferred_metric_ids(tx, customer_id=found.id, metric_id=metric_id, start=start, end=end)
    codes = await repository.metrics_by_ref(tx, {r.metric_id for r in charged} | set(deferred))
    for row in charged:
        tally = tallies[(row.bucket, codes[row.metric_id].code, row.currency)]
        tally.units, tally.events, tally.cost = int(row.units), int(row.events), int(row.cost)
    candidates = await active_prices(tx, deferred) if deferred else []
    subscribed = await repository.subscribed_plans(tx, {found.id}, candidates, during=(start, end))
    plans = frozenset(subscribed.get(found.id, {}))
    for deferred_id in deferred:
        prices = by_precedence(
            candidates, metric_id=deferred_id, customer_id=found.id, currency=found.currency, plan_ids=plans
        )
        await _price_deferred(tx, scope, tallies, codes[deferred_id], prices)
    rows = [
        UsageRow(*_bucket_bounds(group_by, bucket, zone, start, end), code, currency, t.units, t.events, t.cost)
        for (bucket, code, currency), t in tallies.items()
    ]
    rows.sort(key=lambda r: (r.start, r.metric, r.currency or ""))
    return UsageReport(found.id, found.timezone, start, end, group_by, only.code if only else None, rows)


async def _price_deferred(tx: Tx, scope: _Scope, tallies: _Tallies, metric: Metric, prices: list[Price]) -> None:
    """Tally a max, unique_count or latest metric's units and events per bucket, and what its buckets add to
    their periods' charges."""
    customer, start, end, group_by = scope.customer, scope.start, scope.end, scope.group_by
    units = await queries.deferred_units(
        tx, metric, prices, customer_id=customer.id, start=start, end=end, group_by=group_by, clock=scope.clock
    )
    for row in units:
        tally = tallies[(row.bucket, metric.code, row.currency)]
        tally.units, tally.events = int(row.units or 0), int(row.events)
    if not prices:
        return
    # Each price's period that contains `start` may have begun earlier: its events before `start` are the
    # baseline the first bucket adds to. A wider wall clock covers them ("none" periods need no clock).
    starts = {p.id: period_start(p.period, start, customer.timezone) for p in prices}
    since = min([start, *(starts[p.id] for p in prices if p.period != "none")])
    aggregates = await queries.deferred_aggregates(
        tx,
        metric,
        prices,
        customer_id=customer.id,
        start=start,
        end=end,
        group_by=group_by,
        clock=queries.WallClock(_utc_offsets(scope.zone, since, end)) if since < start else scope.clock,
        period_starts=starts,
    )
    steps: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
    for row in aggregates:
        steps[(row.price_id, row.period)].append((row.bucket, int(row.value)))
    by_id = {p.id: p for p in prices}
    for (price_id, _), buckets in steps.items():
        price = by_id[price_id]
        running = 0
        for bucket, value in sorted(buckets):
            after = _combine(metric.aggregation, running, value)
            if bucket != queries.BEFORE_RANGE:
                # Percentage prices need a sum metric, so these specs are always aggregate ones.
                cost = incremental_cost(price.spec, running, after, price.free_units_per_period)  # type: ignore[arg-type]
                tallies[(bucket, metric.code, price.currency)].cost += cost
            running = after


def _combine(aggregation: str, running: int, value: int) -> int:
    """A period's aggregate after a bucket: its new max, its latest value, or its distinct values so far."""
    if aggregation == "max":
        return max(running, value)
    if aggregation == "latest":
        return value
    return running + value


def _bucket_bounds(
    group_by: str, bucket: int, zone: ZoneInfo, start: datetime, end: datetime
) -> tuple[datetime, datetime]:
    """A bucket key's calendar start and end as UTC instants (the whole range for group_by=metric)."""
    if group_by == "metric":
        return start, end
    size = _BUCKET_SIZE[group_by]
    wall = _WALL_EPOCH + bucket * size
    return _first_instant(wall, zone), _first_instant(wall + size, zone)


def _first_instant(wall: datetime, zone: ZoneInfo) -> datetime:
    # fold=0, as periods.period_start reads a calendar date: the earlier of a repeated wall time.
    return wall.replace(tzinfo=zone).astimezone(UTC)


def _utc_offsets(zone: ZoneInfo, since: datetime, until: datetime) -> tuple[tuple[int, int], ...]:
    """The zone's UTC offset over [since, until] and every change of it, as (first epoch second, seconds).

    zoneinfo does not list its transitions, so the offset is sampled daily (no zone changes twice in a day)
    and each change is found to the second by bisection."""

    def offset(second: int) -> int:
        delta = datetime.fromtimestamp(second, UTC).astimezone(zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    first, last = int(since.timestamp()), int(until.timestamp()) + 1
    found = [(first, offset(first))]
    probe = first
    while probe < last:
        step = min(probe + 86400, last)
        if offset(step) != found[-1][1]:
            low, high = probe, step
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == found[-1][1]:
                    low = middle
                else:
                    high = middle
            found.append((high, offset(high)))
        probe = step
    return tuple(found)
