"""The overdue job: once a day, at CREDITFLOW_INVOICE_OVERDUE_HOUR in the seller's time zone, every finalized
invoice still unpaid past its due_at gets payment_overdue, an invoice.overdue event and a reminder email.

Item by item rather than a calendar occurrence: each invoice is claimed by a conditional UPDATE (payment_overdue
false -> true), so any number of runners mark it, announce it and email about it once."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.db.tables import invoices
from creditflow.db.tx import Tx
from creditflow.invoices.models import FINALIZED
from creditflow.invoices.schemas import InvoiceOut
from creditflow.invoices.service import get_invoice
from creditflow.invoices.totals import from_minor
from creditflow.mail import messages
from creditflow.mail.outbox import queue_for_customer
from creditflow.webhooks.outbox import emit

ACTOR = "job:invoice_overdue"
BATCH = 100


def last_check(now: datetime, hour: int, timezone: str) -> datetime:
    """The latest moment at `hour` o'clock in `timezone` not after `now`: what was due by then is overdue now."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    day = local.date() if local.hour >= hour else local.date() - timedelta(days=1)
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


async def mark_overdue(engine: AsyncEngine, clock: Clock, *, hour: int, timezone: str) -> int:
    """Mark what became overdue at the last check; returns how many invoices were marked."""
    now = clock.now()
    cutoff = last_check(now, hour, timezone)
    marked = 0
    while True:
        async with engine.begin() as conn:
            tx = Tx(conn=conn, now=now, actor=ACTOR)
            ids = (
                await conn.execute(
                    select(invoices.c.id)
                    .where(invoices.c.status == FINALIZED, invoices.c.due_at <= cutoff,
                           invoices.c.payment_overdue.is_(False), invoices.c.amount_paid < invoices.c.total)
                    .order_by(invoices.c.due_at, invoices.c.id)
                    .limit(BATCH)
                )
            ).scalars().all()
            for invoice_id in ids:
                marked += await _mark(tx, invoice_id)
        if len(ids) < BATCH:
            return marked


async def _mark(tx: Tx, invoice_id: str) -> int:
    claimed = await tx.conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.payment_overdue.is_(False), invoices.c.status == FINALIZED)
        .values(payment_overdue=True, updated_at=tx.now)
    )
    if claimed.rowcount != 1:
        return 0  # another runner marked it, or it was paid meanwhile
    invoice = await get_invoice(tx, invoice_id)
    assert invoice.number is not None and invoice.due_at is not None
    await emit(tx, "invoice.overdue", {"invoice": InvoiceOut.of(invoice).model_dump(mode="json")})
    due = from_minor(invoice.total - invoice.amount_paid, invoice.currency)
    await queue_for_customer(tx, invoice.customer_id, messages.invoice_overdue(
        invoice.number, due, invoice.currency, f"{invoice.due_at:%Y-%m-%d}", invoice.id,
    ))
    return 1
