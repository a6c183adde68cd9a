"""GET /v1/reports/summary: the figures of each bucket (day, week or month in the seller's time zone) and unit.

A whole bucket of closed days is read as the close job stored it (reports/buckets.py); a bucket cut by
`from`/`to`, or holding days the close job has not run yet (normally today only), is added up from its closed
days' per-customer rollups plus its open days computed live (reports/rollups.py). Definitions: README, "Reports".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from creditflow.db.tables import job_runs, plans, subscriptions
from creditflow.errors import InvalidRequest
from creditflow.jobs.occurrences import day_bounds
from creditflow.reports.buckets import (
    GroupBy,
    Rollups,
    Totals,
    balance_changes_before,
    bucket_of,
    customer_sums,
    empty_rollups,
    stored_totals,
    totals_of,
    week_of,
)
from creditflow.reports.rollups import compute_day

CLOSE_JOB = "daily_summary"
MAX_BUCKETS = 1000


@dataclass(frozen=True, slots=True)
class SummaryRow:
    start: date
    end: date
    unit: str
    sums: dict[str, int]
    active_customers: int
    paying_customers: int
    checkout_customers: int
    top_customers: list[tuple[str, int]]
    balance_outstanding: int
    holds_outstanding: int
    mrr: int

    @property
    def revenue(self) -> int:
        s = self.sums
        return (s["topups_gross"] - s["topups_tax"]) - (s["refunds_gross"] - s["refunds_tax"])

    @property
    def tax(self) -> int:
        return self.sums["topups_tax"] - self.sums["refunds_tax"]

    @property
    def success_rate(self) -> Decimal | None:
        tried = self.sums["topups_paid"] + self.sums["topups_failed"]
        return ratio(self.sums["topups_paid"], tried)

    @property
    def conversion(self) -> Decimal | None:
        return ratio(self.paying_customers, self.checkout_customers)


def ratio(part: int, whole: int) -> Decimal | None:
    """Exact to 4 places, half up; None when nothing was tried."""
    if whole == 0:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def _days(since: date, until: date) -> list[date]:
    return [since + timedelta(days=n) for n in range((until - since).days + 1)]


def _buckets(since: date, until: date, group_by: GroupBy) -> dict[str, list[date]]:
    buckets: dict[str, list[date]] = {}
    for day in _days(since, until):
        buckets.setdefault(bucket_of(day, group_by), []).append(day)
    return buckets


def _is_whole(days: list[date], group_by: GroupBy) -> bool:
    """Whether `days` are all of their bucket (not cut by from or to)."""
    first, after = days[0], days[-1] + timedelta(days=1)
    if group_by is GroupBy.WEEK:
        return first == week_of(first) and len(days) == 7
    if group_by is GroupBy.MONTH:
        return first.day == 1 and after.day == 1
    return True


async def last_closed_day(conn: AsyncConnection, timezone: str) -> date | None:
    """The latest day the close job finished (its occurrences are the days' starts)."""
    last = (await conn.execute(
        select(func.max(job_runs.c.occurrence_at))
        .where(job_runs.c.job == CLOSE_JOB, job_runs.c.finished_at.is_not(None))
    )).scalar_one_or_none()
    return last.astimezone(ZoneInfo(timezone)).date() if last is not None else None


async def _live(conn: AsyncConnection, days: Iterable[date], timezone: str, unit: str | None, into: Rollups) -> None:
    """Add the figures of `days` (not closed yet) computed from the source rows now."""
    for day in days:
        start, end = day_bounds(day, timezone)
        for key, values in (await compute_day(conn, start, end)).items():
            if unit is None or key[1] == unit:
                for name, value in values.items():
                    into[key][name] += value


@dataclass(frozen=True, slots=True)
class _Window:
    """Which days of the asked range are closed, open (to compute live) or still to come."""

    today: date
    last_closed: date | None

    def is_open(self, day: date) -> bool:
        return day <= self.today and (self.last_closed is None or day > self.last_closed)

    def is_closed(self, day: date) -> bool:
        return self.last_closed is not None and day <= self.last_closed


async def _bucket_totals(
    conn: AsyncConnection, buckets: dict[str, list[date]], group_by: GroupBy, window: _Window, timezone: str,
    unit: str | None,
) -> dict[tuple[str, str], Totals]:
    totals = await stored_totals(conn, group_by, min(buckets), max(buckets), unit)
    for bucket, days in buckets.items():
        opened = [day for day in days if window.is_open(day)]
        if not opened and _is_whole(days, group_by):
            continue  # as stored
        for key in [key for key in totals if key[0] == bucket]:
            del totals[key]
        closed = [day for day in days if window.is_closed(day)]
        per_customer = await customer_sums(conn, group_by, bucket, closed, unit)
        await _live(conn, opened, timezone, unit, per_customer)
        totals.update({(bucket, found): value for found, value in totals_of(per_customer).items()})
    return totals


async def _balances_at_start(
    conn: AsyncConnection, since: date, window: _Window, timezone: str, unit: str | None
) -> dict[str, tuple[int, int]]:
    """Per unit, every customer's (balance, held) when `since` begins: the closed days' changes before it, plus
    those of days before it the close job has not run yet (normally none)."""
    balances = await balance_changes_before(conn, since, unit)
    if window.last_closed is None:
        return balances
    unclosed = empty_rollups()
    await _live(conn, _days(window.last_closed + timedelta(days=1), min(since - timedelta(days=1), window.today)),
                timezone, unit, unclosed)
    for (_, found), values in unclosed.items():
        balance, held = balances.get(found, (0, 0))
        balances[found] = (balance + values["balance_change"], held + values["held_change"])
    return balances


def _monthly(amount: int, interval: str) -> int:
    """A plan fee normalised to a month, half up: a year is 12 months, a week 12/52 of one."""
    if interval == "year":
        return (amount + 6) // 12
    if interval == "week":
        return (amount * 52 * 2 + 12) // 24
    return amount


async def _subscriptions(conn: AsyncConnection, unit: str | None) -> list[tuple[str, int, datetime, datetime | None]]:
    """(currency, monthly fee, started paying at, canceled at) of every subscription."""
    query = select(plans.c.currency, plans.c.amount, plans.c.interval, subscriptions.c.created_at,
                   subscriptions.c.trial_end, subscriptions.c.canceled_at).select_from(
        subscriptions.join(plans, plans.c.id == subscriptions.c.plan_id))
    if unit is not None:
        query = query.where(plans.c.currency == unit)
    return [(currency, _monthly(amount, interval), max(created, trial_end or created), canceled)
            for currency, amount, interval, created, trial_end, canceled in await conn.execute(query)]


def _mrr(subs: Iterable[tuple[str, int, datetime, datetime | None]], at: datetime) -> dict[str, int]:
    found: defaultdict[str, int] = defaultdict(int)
    for currency, monthly, started, canceled in subs:
        if started < at and (canceled is None or canceled >= at):
            found[currency] += monthly
    return dict(found)


async def summarize(
    conn: AsyncConnection, *, now: datetime, timezone: str, since: date, until: date, group_by: GroupBy,
    unit: str | None,
) -> list[SummaryRow]:
    """One row per bucket and unit, buckets oldest first, units in name order."""
    if since > until:
        raise InvalidRequest("from must not be after to", param="from")
    buckets = _buckets(since, until, group_by)
    if len(buckets) > MAX_BUCKETS:
        raise InvalidRequest(f"at most {MAX_BUCKETS} buckets; ask for a shorter range or larger buckets", param="to")
    window = _Window(now.astimezone(ZoneInfo(timezone)).date(), await last_closed_day(conn, timezone))
    totals = await _bucket_totals(conn, buckets, group_by, window, timezone, unit)
    running = await _balances_at_start(conn, since, window, timezone, unit)
    subs = await _subscriptions(conn, unit)
    units = sorted({found for _, found in totals} | set(running) | {sub[0] for sub in subs} | set(filter(None, [unit])))
    rows = []
    for bucket, days in buckets.items():
        mrr = _mrr(subs, min(day_bounds(days[-1], timezone)[1], now))
        for found in units:
            figures = totals.get((bucket, found), Totals())
            balance, held = running.get(found, (0, 0))
            running[found] = balance, held = (balance + figures.sums["balance_change"],
                                              held + figures.sums["held_change"])
            rows.append(SummaryRow(
                start=days[0], end=days[-1], unit=found, sums=figures.sums, active_customers=figures.active,
                paying_customers=figures.payers, checkout_customers=figures.starters, top_customers=figures.top,
                balance_outstanding=balance, holds_outstanding=held, mrr=mrr.get(found, 0),
            ))
    return rows
