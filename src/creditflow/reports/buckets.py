"""Buckets of the summary report (a day, an ISO week, a month in the seller's time zone) and their totals per
unit: added up from the per-customer daily rollups, stored for finished buckets by the close job, and read
back by the summary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from creditflow.db.tables import customer_daily_rollups as rollups
from creditflow.db.tables import report_buckets
from creditflow.db.tables.jobs import ROLLUP_FIGURES

TOP_CUSTOMERS = 10

Key = tuple[str, str]  # (customer_id, unit)
Rollups = dict[Key, dict[str, int]]


class GroupBy(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def week_of(day: date) -> date:
    """The Monday that starts `day`'s week (ISO weeks)."""
    return day - timedelta(days=day.weekday())


def bucket_of(day: date, group_by: GroupBy) -> str:
    if group_by is GroupBy.DAY:
        return day.isoformat()
    if group_by is GroupBy.WEEK:
        return week_of(day).isoformat()
    return day.isoformat()[:7]


def empty_rollups() -> Rollups:
    return defaultdict(lambda: dict.fromkeys(ROLLUP_FIGURES, 0))


@dataclass(slots=True)
class Totals:
    """One bucket's figures in one unit, before the balances at its end are known."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ROLLUP_FIGURES, 0))
    active: int = 0
    payers: int = 0
    starters: int = 0
    top: list[tuple[str, int]] = field(default_factory=list)


def totals_of(per_customer: Rollups) -> dict[str, Totals]:
    """A bucket's totals per unit from its per-customer figures."""
    totals: defaultdict[str, Totals] = defaultdict(Totals)
    spenders: defaultdict[str, list[tuple[str, int]]] = defaultdict(list)
    for (customer_id, unit), values in per_customer.items():
        bucket = totals[unit]
        for name, value in values.items():
            bucket.sums[name] += value
        bucket.active += values["consumed"] > 0
        bucket.payers += values["topups_paid"] > 0
        bucket.starters += values["topups_started"] > 0
        if values["consumed"] > 0:
            spenders[unit].append((customer_id, values["consumed"]))
    for unit, found in spenders.items():
        totals[unit].top = sorted(found, key=lambda item: (-item[1], item[0]))[:TOP_CUSTOMERS]
    return dict(totals)


async def customer_sums(
    conn: AsyncConnection, group_by: GroupBy, bucket: str, days: Iterable[date] | None = None,
    unit: str | None = None,
) -> Rollups:
    """Per customer and unit, the stored rollups of `bucket` (only those of `days`, when given)."""
    where = [rollups.c[group_by.value] == bucket]
    if days is not None:
        chosen = sorted(days)
        if not chosen:
            return empty_rollups()
        where += [rollups.c.day >= chosen[0].isoformat(), rollups.c.day <= chosen[-1].isoformat()]
    if unit is not None:
        where.append(rollups.c.unit == unit)
    query = (
        select(rollups.c.customer_id, rollups.c.unit, *(func.sum(rollups.c[name]) for name in ROLLUP_FIGURES))
        .where(*where).group_by(rollups.c.customer_id, rollups.c.unit)
    )
    found = empty_rollups()
    for row in await conn.execute(query):
        values = list(row)
        found[(values[0], values[1])] = {n: int(v) for n, v in zip(ROLLUP_FIGURES, values[2:], strict=True)}
    return found


async def store_buckets(conn: AsyncConnection, day: date) -> None:
    """After `day` is closed: the totals of its day, week and month, from every closed day in them so far."""
    for group_by in GroupBy:
        bucket = bucket_of(day, group_by)
        totals = totals_of(await customer_sums(conn, group_by, bucket))
        await conn.execute(delete(report_buckets).where(report_buckets.c.group_by == group_by.value,
                                                        report_buckets.c.bucket == bucket))
        if totals:
            await conn.execute(report_buckets.insert(), [
                {"group_by": group_by.value, "bucket": bucket, "unit": unit, **t.sums, "active_customers": t.active,
                 "paying_customers": t.payers, "checkout_customers": t.starters,
                 "top_customers": [[customer, amount] for customer, amount in t.top]}
                for unit, t in totals.items()
            ])


def _totals(row: Any) -> Totals:
    m = row._mapping
    return Totals(
        sums={name: int(m[name]) for name in ROLLUP_FIGURES}, active=int(m["active_customers"]),
        payers=int(m["paying_customers"]), starters=int(m["checkout_customers"]),
        top=[(customer, int(amount)) for customer, amount in m["top_customers"]],
    )


async def stored_totals(
    conn: AsyncConnection, group_by: GroupBy, first: str, last: str, unit: str | None
) -> dict[tuple[str, str], Totals]:
    """The stored totals of the buckets from `first` to `last`, by (bucket, unit)."""
    query = select(report_buckets).where(
        report_buckets.c.group_by == group_by.value, report_buckets.c.bucket >= first, report_buckets.c.bucket <= last
    )
    if unit is not None:
        query = query.where(report_buckets.c.unit == unit)
    return {(row.bucket, row.unit): _totals(row) for row in await conn.execute(query)}


async def balance_changes_before(conn: AsyncConnection, since: date, unit: str | None) -> dict[str, tuple[int, int]]:
    """Per unit, the change of every customer's (balance, held) over the closed days before `since`."""
    query = select(report_buckets.c.unit, func.sum(report_buckets.c.balance_change),
                   func.sum(report_buckets.c.held_change)).where(
        report_buckets.c.group_by == GroupBy.DAY.value, report_buckets.c.bucket < since.isoformat()
    ).group_by(report_buckets.c.unit)
    if unit is not None:
        query = query.where(report_buckets.c.unit == unit)
    return {found: (int(balance), int(held)) for found, balance, held in await conn.execute(query)}
