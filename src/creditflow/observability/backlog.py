"""Gauges read from the database at scrape time: the same for every process, so no process keeps them."""

from __future__ import annotations

from datetime import datetime

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Table, func, select

from creditflow.db.tables import email_outbox, webhook_deliveries
from creditflow.db.tx import Tx

# (metric prefix, outbox table, what one row is).
_OUTBOXES: tuple[tuple[str, Table, str], ...] = (
    ("creditflow_webhook_deliveries", webhook_deliveries, "webhook deliveries"),
    ("creditflow_emails", email_outbox, "emails"),
)


async def backlog_gauges(tx: Tx) -> list[GaugeMetricFamily]:
    """Pending rows of each outbox and the age of the oldest one (0 when none is pending)."""
    families = []
    for prefix, table, what in _OUTBOXES:
        query = select(func.count(), func.min(table.c.created_at)).where(table.c.status == "pending")
        count, oldest = (await tx.conn.execute(query)).one()
        families.append(GaugeMetricFamily(f"{prefix}_pending", f"Pending {what} (the backlog).", value=count))
        families.append(
            GaugeMetricFamily(
                f"{prefix}_oldest_pending_age_seconds", f"Age of the oldest pending {what}.",
                value=_age(tx.now, oldest),
            )
        )
    return families


def _age(now: datetime, oldest: datetime | None) -> float:
    return max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
