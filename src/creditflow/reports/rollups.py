"""Rollups per (customer, unit, day in the seller's time zone): what the summary report adds up.

The daily close job computes a finished day once and stores it (replacing any earlier rows for that day);
the summary computes the days not yet closed (normally today only) with the same function, live. Nothing is
written per request: the figures come from the rows that record each change (top-ups, refunds, grants,
transfers, holds, customers), read by time range.

Money figures (top-ups, their tax and refunds) are in the top-up's currency; credit figures in the wallet's
unit; a new customer counts in the customer's currency.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, case, delete, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from creditflow.db.tables import (
    accounts,
    credit_grants,
    customer_daily_rollups,
    customers,
    holds,
    topup_refunds,
    topups,
    transfers,
)
from creditflow.ledger.models import PAID
from creditflow.reports.buckets import GroupBy, Rollups, bucket_of, empty_rollups, store_buckets

FAILED_TOPUP_STATUSES = ("failed", "expired")
REFUNDED_STATUSES = ("refunded", "manual")


def _net_into(prefix: str, amount: Any) -> Any:
    """Credits moved into the system accounts named `prefix`, less those moved back out."""
    return func.sum(case(
        (transfers.c.credit_account_id.like(f"{prefix}%"), amount),
        (transfers.c.debit_account_id.like(f"{prefix}%"), -amount),
        else_=0,
    ))


def _in_wallet(column: Any) -> Any:
    return and_(column.not_like("sys\\_%", escape="\\"), column.not_like("dbt\\_%", escape="\\"))


async def _ledger(conn: AsyncConnection, rows: Rollups, start: datetime, end: datetime) -> None:
    """Consumed (net to revenue), expired (net to breakage), credits refunded (net to refunds), and the change of
    the customer's balance, from one day's transfers, per customer and unit."""
    debit_side, credit_side = accounts.alias("debit_side"), accounts.alias("credit_side")
    amount = transfers.c.amount
    customer = func.coalesce(debit_side.c.customer_id, credit_side.c.customer_id)
    query = (
        select(
            customer, transfers.c.unit, _net_into("sys_revenue_", amount), _net_into("sys_breakage_", amount),
            _net_into("sys_refunds_", amount),
            func.sum(case((_in_wallet(transfers.c.credit_account_id), amount), else_=0)
                     - case((_in_wallet(transfers.c.debit_account_id), amount), else_=0)),
        )
        .select_from(
            transfers.outerjoin(debit_side, debit_side.c.id == transfers.c.debit_account_id)
            .outerjoin(credit_side, credit_side.c.id == transfers.c.credit_account_id)
        )
        .where(transfers.c.created_at >= start, transfers.c.created_at < end)
        .group_by(customer, transfers.c.unit)
    )
    for customer_id, unit, consumed, expired, refunded, change in await conn.execute(query):
        if customer_id is None:
            continue
        row = rows[(customer_id, unit)]
        row.update(consumed=int(consumed), expired=int(expired), credits_refunded=int(refunded),
                   balance_change=int(change))


async def _topups(conn: AsyncConnection, rows: Rollups, start: datetime, end: datetime) -> None:
    by = (topups.c.customer_id, topups.c.currency)
    started = select(*by, func.count()).where(topups.c.created_at >= start, topups.c.created_at < end).group_by(*by)
    for customer_id, currency, count in await conn.execute(started):
        rows[(customer_id, currency)]["topups_started"] = count
    paid = (
        select(*by, func.count(), func.sum(topups.c.total), func.sum(topups.c.tax))
        .where(topups.c.paid_at >= start, topups.c.paid_at < end).group_by(*by)
    )
    for customer_id, currency, count, total, tax in await conn.execute(paid):
        rows[(customer_id, currency)].update(topups_paid=count, topups_gross=int(total), topups_tax=int(tax))
    failed = (
        select(*by, func.count())
        .where(topups.c.status.in_(FAILED_TOPUP_STATUSES), topups.c.updated_at >= start, topups.c.updated_at < end)
        .group_by(*by)
    )
    for customer_id, currency, count in await conn.execute(failed):
        rows[(customer_id, currency)]["topups_failed"] = count
    refunded = (
        select(*by, topup_refunds.c.amount, topups.c.tax, topups.c.total)
        .select_from(topup_refunds.join(topups, topups.c.id == topup_refunds.c.topup_id))
        .where(topup_refunds.c.status.in_(REFUNDED_STATUSES), topup_refunds.c.updated_at >= start,
               topup_refunds.c.updated_at < end)
    )
    for customer_id, currency, amount, tax, total in await conn.execute(refunded):
        row = rows[(customer_id, currency)]
        row["refunds_gross"] += amount
        # A refund gives back its share of the tax: amount x tax / total, half up.
        row["refunds_tax"] += (2 * amount * tax + total) // (2 * total)


async def _grants_holds_customers(conn: AsyncConnection, rows: Rollups, start: datetime, end: datetime) -> None:
    by = (credit_grants.c.customer_id, credit_grants.c.unit)
    granted = (
        select(*by, credit_grants.c.category, func.sum(credit_grants.c.amount))
        .where(credit_grants.c.created_at >= start, credit_grants.c.created_at < end)
        .group_by(*by, credit_grants.c.category)
    )
    for customer_id, unit, category, amount in await conn.execute(granted):
        rows[(customer_id, unit)]["granted_paid" if category == PAID else "granted_promotional"] += int(amount)
    opened = and_(holds.c.created_at >= start, holds.c.created_at < end)
    ended = and_(holds.c.ended_at >= start, holds.c.ended_at < end)
    held = (
        select(holds.c.customer_id, holds.c.unit,
               func.sum(case((opened, holds.c.amount), else_=0) - case((ended, holds.c.amount), else_=0)))
        .where(or_(opened, ended)).group_by(holds.c.customer_id, holds.c.unit)
    )
    for customer_id, unit, change in await conn.execute(held):
        rows[(customer_id, unit)]["held_change"] = int(change)
    joined = select(customers.c.id, customers.c.currency, literal(1)).where(
        customers.c.created_at >= start, customers.c.created_at < end
    )
    for customer_id, currency, _ in await conn.execute(joined):
        rows[(customer_id, currency)]["new_customer"] = 1


async def compute_day(conn: AsyncConnection, start: datetime, end: datetime) -> Rollups:
    """Every figure of every (customer, unit) with any activity between start and end."""
    rows = empty_rollups()
    await _ledger(conn, rows, start, end)
    await _topups(conn, rows, start, end)
    await _grants_holds_customers(conn, rows, start, end)
    return {key: values for key, values in rows.items() if any(values.values())}


async def close_day(conn: AsyncConnection, day: date, start: datetime, end: datetime) -> None:
    """Store `day`'s rollups, replacing any earlier run's (running a day again gives the same rows), then the
    totals of its day, week and month."""
    rows = await compute_day(conn, start, end)
    key = day.isoformat()
    await conn.execute(delete(customer_daily_rollups).where(customer_daily_rollups.c.day == key))
    if rows:
        week, month = bucket_of(day, GroupBy.WEEK), bucket_of(day, GroupBy.MONTH)
        await conn.execute(customer_daily_rollups.insert(), [
            {"day": key, "unit": unit, "customer_id": customer_id, "week": week, "month": month, **values}
            for (customer_id, unit), values in rows.items()
        ])
    await store_buckets(conn, day)
