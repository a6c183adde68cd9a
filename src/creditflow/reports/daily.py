"""The daily summary, per currency (or credit unit) and day in the seller's time zone: top-ups paid (count
and money collected, tax included), revenue (that money net of tax), top-up refunds, spend (credits moved to
revenue: usage, captures, subscription charges, net of refunds and credit-backs) and new customers.

Computed by the job runner once each day has ended (jobs/occurrences.py), replacing any earlier row for
that day, so running a day again gives the same answer. The same run stores the day's per-customer rollups
that GET /v1/reports/summary adds up (reports/rollups.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.db.dialect import exact_sum, exact_total
from creditflow.db.tables import customers, daily_reports, topup_refunds, topups, transfers
from creditflow.db.tx import Tx
from creditflow.reports.rollups import close_day

_REVENUE_PREFIX = "sys_revenue_"
_FIELDS = ("topups", "topups_amount", "revenue", "refunds", "spend", "new_customers")


@dataclass(frozen=True, slots=True)
class DailyReport:
    day: str
    currency: str
    topups: int
    topups_amount: int
    revenue: int
    refunds: int
    spend: int
    new_customers: int


async def summarize_day(engine: AsyncEngine, day: date, start: datetime, end: datetime, now: datetime) -> None:
    async with engine.begin() as conn:
        rows: defaultdict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(_FIELDS, 0))
        paid = await conn.execute(
            select(topups.c.currency, func.count(), func.sum(topups.c.total), func.sum(topups.c.subtotal))
            .where(topups.c.paid_at >= start, topups.c.paid_at < end)
            .group_by(topups.c.currency)
        )
        for currency, count, total, subtotal in paid:
            rows[currency].update(topups=count, topups_amount=int(total), revenue=int(subtotal))
        refunded = await conn.execute(
            select(topups.c.currency, func.sum(topup_refunds.c.amount))
            .select_from(topup_refunds.join(topups, topups.c.id == topup_refunds.c.topup_id))
            .where(topup_refunds.c.status.in_(("refunded", "manual")),
                   topup_refunds.c.updated_at >= start, topup_refunds.c.updated_at < end)
            .group_by(topups.c.currency)
        )
        for currency, amount in refunded:
            rows[currency]["refunds"] = int(amount)
        for column, sign in ((transfers.c.credit_account_id, 1), (transfers.c.debit_account_id, -1)):
            moved = await conn.execute(
                select(transfers.c.unit, *exact_sum(transfers.c.amount))
                .where(column.like(f"{_REVENUE_PREFIX}%"), transfers.c.created_at >= start,
                       transfers.c.created_at < end)
                .group_by(transfers.c.unit)
            )
            for unit, high, low in moved:
                rows[unit]["spend"] += sign * exact_total(high, low)
        joined = await conn.execute(
            select(customers.c.currency, func.count())
            .where(customers.c.created_at >= start, customers.c.created_at < end)
            .group_by(customers.c.currency)
        )
        for currency, count in joined:
            rows[currency]["new_customers"] = count
        key = day.isoformat()
        await conn.execute(delete(daily_reports).where(daily_reports.c.day == key))
        if rows:
            await conn.execute(
                daily_reports.insert(),
                [{"day": key, "currency": currency, **values, "created_at": now} for currency, values in rows.items()],
            )
        await close_day(conn, day, start, end)


def _report(row: Any) -> DailyReport:
    return DailyReport(**{field: row._mapping[field] for field in DailyReport.__slots__})


async def list_reports(
    tx: Tx, *, since: date | None, until: date | None, currency: str | None, limit: int
) -> list[DailyReport]:
    """Newest day first, then currency."""
    query = select(daily_reports).order_by(daily_reports.c.day.desc(), daily_reports.c.currency).limit(limit)
    if since is not None:
        query = query.where(daily_reports.c.day >= since.isoformat())
    if until is not None:
        query = query.where(daily_reports.c.day <= until.isoformat())
    if currency is not None:
        query = query.where(daily_reports.c.currency == currency)
    return [_report(row) for row in (await tx.conn.execute(query)).all()]

