"""Metering queries: metrics and customers by reference, recorded events, usage aggregates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, func, or_, select, update

from creditflow.db.tables import customers, events, metrics, usage_aggregates, usage_closes
from creditflow.db.tx import Tx
from creditflow.metering.metrics import Metric, metric_from_row
from creditflow.metering.models import Aggregate, EventResult


async def metrics_by_ref(tx: Tx, refs: set[str]) -> dict[str, Metric]:
    rows = await tx.conn.execute(select(metrics).where(or_(metrics.c.code.in_(refs), metrics.c.id.in_(refs))))
    found: dict[str, Metric] = {}
    for row in rows.all():
        metric = metric_from_row(row)
        found[metric.code] = found[metric.id] = metric
    return found


async def customers_by_ref(tx: Tx, refs: set[str]) -> dict[str, Any]:
    rows = await tx.conn.execute(
        select(customers.c.id, customers.c.external_id, customers.c.currency, customers.c.timezone).where(
            or_(customers.c.id.in_(refs), customers.c.external_id.in_(refs))
        )
    )
    found: dict[str, Any] = {}
    for row in rows.all():
        found[row.id] = found[row.external_id] = row
    return found


async def existing_events(tx: Tx, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], EventResult]:
    """Events already recorded under these (customer id, transaction_id) pairs."""
    if not pairs:
        return {}
    rows = await tx.conn.execute(
        EVENT_QUERY.where(
            events.c.customer_id.in_({customer for customer, _ in pairs}),
            events.c.transaction_id.in_({transaction for _, transaction in pairs}),
        )
    )
    found = {(row.customer_id, row.transaction_id): event_from_row(row) for row in rows.all()}
    return {pair: event for pair, event in found.items() if pair in pairs}


async def load_aggregates(tx: Tx, keys: set[tuple[str, str, datetime]]) -> dict[tuple[str, str, datetime], Aggregate]:
    """Running usage per (customer id, price id, period start); absent keys have no usage yet."""
    if not keys:
        return {}
    rows = await tx.conn.execute(
        select(usage_aggregates).where(
            usage_aggregates.c.customer_id.in_({k[0] for k in keys}),
            usage_aggregates.c.price_id.in_({k[1] for k in keys}),
        )
    )
    return {
        (r.customer_id, r.price_id, r.period_start): Aggregate(r.units, r.events, r.cost, exists=True)
        for r in rows.all()
        if (r.customer_id, r.price_id, r.period_start) in keys
    }


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
