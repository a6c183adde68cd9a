"""Reading events back: one event, lists, refunds through the debit-refund path."""

from __future__ import annotations

from sqlalchemy import update

from creditflow.db.tables import events
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, NotFound
from creditflow.ledger.debits import refund_debit
from creditflow.ledger.models import RefundResult
from creditflow.metering.models import EventResult
from creditflow.metering.repository import EVENT_QUERY, event_from_row


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
    query = EVENT_QUERY.order_by(events.c.id.desc()).limit(limit)
    if customer_id is not None:
        query = query.where(events.c.customer_id == customer_id)
    if metric_id is not None:
        query = query.where(events.c.metric_id == metric_id)
    if starting_after is not None:
        query = query.where(events.c.id < starting_after)
    return [event_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def refund_event(tx: Tx, event_id: str) -> RefundResult:
    """Refund what is left of an event's charge, through the same path as POST /v1/debits/{id}/refund."""
    event = await get_event(tx, event_id)
    if event.operation_id is None or event.cost <= 0 or event.refunded >= event.cost:
        raise NothingToRefund(f"event {event_id} has no charge left to refund", param="id")
    refund = await refund_debit(tx, event.operation_id, event.cost - event.refunded)
    await tx.conn.execute(
        update(events).where(events.c.id == event_id).values(refunded=events.c.refunded + refund.amount)
    )
    return refund
