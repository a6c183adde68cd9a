"""Period close: once a customer's calendar month (in its time zone) has ended and the late window has passed,
the usage of metrics not charged in real time (max, unique_count, latest) is priced exactly as the usage
report prices it, becomes an invoice (one line per metric, rounded once to the currency's minor units) and is
collected from the balance. What the balance cannot cover leaves the invoice finalized with an amount due,
collected first from the next top-up (billing/collection.py), and makes the customer's active subscriptions
past_due. The month is then closed: events timestamped in it are refused (422 period_closed).

Each close runs once per customer and month (a usage_closes row, inserted first, is the claim).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow import money
from creditflow.billing.collection import pay_from_balance
from creditflow.clock import Clock
from creditflow.customers.service import get_customer
from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import events, usage_closes
from creditflow.db.tx import Tx
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Issuer, LineInput
from creditflow.metering import repository as metering
from creditflow.metering.metrics import REAL_TIME
from creditflow.metering.usage import usage_report
from creditflow.periods import period_start
from creditflow.subscriptions.renewals import mark_past_due

ACTOR = "system:period_close"
# How far back the job looks for customers with events: a month, its late window, and a margin for downtime.
LOOKBACK = timedelta(days=70)


async def close_due(
    engine: AsyncEngine, clock: Clock, issuer: Issuer, *, late_window: timedelta, grace: timedelta
) -> int:
    """Close every customer month that has ended, late window included; returns how many were closed."""
    now = clock.now()
    async with engine.connect() as conn:
        customers = (
            await conn.execute(
                select(events.c.customer_id).where(events.c.timestamp >= now - LOOKBACK).distinct()
            )
        ).scalars().all()
        await conn.rollback()
    closed = 0
    for customer_id in customers:
        async with engine.begin() as conn:
            tx = Tx(conn=conn, now=now, actor=ACTOR)
            timezone = (await get_customer(tx, customer_id)).timezone
            # The month the late window still reaches stays open; the one before it may close.
            open_start = period_start("month", now - late_window, timezone)
            start = period_start("month", open_start - timedelta(seconds=1), timezone)
            closed += await close_month(tx, customer_id, start, open_start, issuer, grace=grace)
    return closed


async def close_month(
    tx: Tx, customer_id: str, start: datetime, end: datetime, issuer: Issuer, *, grace: timedelta
) -> int:
    """Close [start, end) for the customer: invoice and collect its deferred usage. 0 if already closed."""
    claimed = await insert_ignoring_conflicts(tx.conn, usage_closes, [
        {"customer_id": customer_id, "period_start": start, "period_end": end, "closed_at": tx.now}
    ])
    if not claimed:
        return 0
    report = await usage_report(tx, customer_id, start=start, end=end, metric=None, group_by="metric")
    found = await metering.metrics_by_ref(tx, {row.metric for row in report.rows})
    aggregations = {code: metric.aggregation for code, metric in found.items()}
    lines: defaultdict[str, list[LineInput]] = defaultdict(list)
    for row in report.rows:
        if aggregations.get(row.metric) in REAL_TIME or row.currency is None or row.cost <= 0:
            continue
        amount = money.round_to_minor(row.cost, row.currency)
        if amount > 0:
            lines[row.currency].append(LineInput(description=f"{row.metric}: usage {start:%Y-%m}", amount=amount))
    short = False
    for currency, items in sorted(lines.items()):
        invoice = await invoices.create_draft(
            tx, customer=customer_id, currency=currency, lines=items, description=f"Usage {start:%Y-%m}",
            metadata={"period_start": start.isoformat(), "period_end": end.isoformat()},
        )
        await invoices.finalize(tx, invoice.id, issuer)
        await pay_from_balance(tx, invoice.id)
        short = short or (await invoices.get_invoice(tx, invoice.id)).status != "paid"
    if short:
        await mark_past_due(tx, customer_id, grace=grace)
    return 1

