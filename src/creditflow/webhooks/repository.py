"""The queries behind webhook endpoints and the event log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update

from creditflow.db.pagination import newest_first
from creditflow.db.tables import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoint_events,
    webhook_endpoints,
    webhook_events,
)
from creditflow.db.tx import Tx
from creditflow.webhooks.models import Attempt, Delivery, Endpoint, Event

# --- endpoints ---------------------------------------------------------------------------------------------


async def insert_endpoint(
    tx: Tx, *, endpoint_id: str, url: str, description: str | None, secret: str, events: list[str],
    format: str = "standard",
) -> None:
    await tx.conn.execute(
        webhook_endpoints.insert().values(
            id=endpoint_id, url=url, description=description, secret=secret, disabled=False, format=format,
            created_at=tx.now, updated_at=tx.now, deleted_at=None,
        )
    )
    await replace_subscriptions(tx, endpoint_id, events)


async def replace_subscriptions(tx: Tx, endpoint_id: str, events: list[str]) -> None:
    await tx.conn.execute(delete(webhook_endpoint_events).where(webhook_endpoint_events.c.endpoint_id == endpoint_id))
    if not events:
        return
    await tx.conn.execute(
        webhook_endpoint_events.insert(),
        [{"endpoint_id": endpoint_id, "event_type": t} for t in sorted(set(events))],
    )


async def _subscriptions(tx: Tx, endpoint_ids: list[str]) -> dict[str, list[str]]:
    rows = await tx.conn.execute(
        select(webhook_endpoint_events)
        .where(webhook_endpoint_events.c.endpoint_id.in_(endpoint_ids))
        .order_by(webhook_endpoint_events.c.event_type)
    )
    found: dict[str, list[str]] = {endpoint_id: [] for endpoint_id in endpoint_ids}
    for row in rows:
        found[row.endpoint_id].append(row.event_type)
    return found


def _endpoint(row: Any, events: list[str]) -> Endpoint:
    return Endpoint(
        id=row.id, url=row.url, description=row.description, secret=row.secret, events=events,
        disabled=row.disabled, created_at=row.created_at, updated_at=row.updated_at,
        previous_secret_expires_at=row.previous_secret_expires_at, format=row.format,
    )


async def load_endpoint(tx: Tx, endpoint_id: str, *, for_update: bool = False) -> Endpoint | None:
    """A live (not deleted) endpoint."""
    query = select(webhook_endpoints).where(
        webhook_endpoints.c.id == endpoint_id, webhook_endpoints.c.deleted_at.is_(None)
    )
    if for_update:
        query = query.with_for_update()
    row = (await tx.conn.execute(query)).first()
    if row is None:
        return None
    return _endpoint(row, (await _subscriptions(tx, [row.id]))[row.id])


async def list_endpoints(tx: Tx, *, limit: int, starting_after: str | None) -> list[Endpoint]:
    query = newest_first(
        select(webhook_endpoints).where(webhook_endpoints.c.deleted_at.is_(None)),
        webhook_endpoints.c.id, limit=limit, starting_after=starting_after,
    )
    rows = (await tx.conn.execute(query)).all()
    subscriptions = await _subscriptions(tx, [r.id for r in rows])
    return [_endpoint(r, subscriptions[r.id]) for r in rows]


async def update_endpoint(tx: Tx, endpoint_id: str, values: dict[str, Any]) -> None:
    await tx.conn.execute(
        update(webhook_endpoints).where(webhook_endpoints.c.id == endpoint_id).values(**values, updated_at=tx.now)
    )


async def cancel_pending_deliveries(tx: Tx, endpoint_id: str) -> None:
    await tx.conn.execute(
        update(webhook_deliveries)
        .where(webhook_deliveries.c.endpoint_id == endpoint_id, webhook_deliveries.c.status == "pending")
        .values(status="canceled", next_attempt_at=None, lease_token=None, lease_until=None, updated_at=tx.now)
    )


# --- events ------------------------------------------------------------------------------------------------


def _event(row: Any) -> Event:
    return Event(id=row.id, type=row.type, data=row.data, created_at=row.created_at)


async def load_event(tx: Tx, event_id: str) -> Event | None:
    row = (await tx.conn.execute(select(webhook_events).where(webhook_events.c.id == event_id))).first()
    return None if row is None else _event(row)


async def list_events(tx: Tx, *, event_type: str | None, limit: int, starting_after: str | None) -> list[Event]:
    query = select(webhook_events)
    if event_type is not None:
        query = query.where(webhook_events.c.type == event_type)
    query = newest_first(query, webhook_events.c.id, limit=limit, starting_after=starting_after)
    return [_event(r) for r in (await tx.conn.execute(query)).all()]


async def attach_deliveries(tx: Tx, events: list[Event], *, with_attempts: bool = False) -> None:
    """Fill each event's deliveries (by endpoint id), and with_attempts, each delivery's attempts (oldest first)."""
    if not events:
        return
    by_id = {e.id: e for e in events}
    rows = await tx.conn.execute(
        select(webhook_deliveries, webhook_endpoints.c.url)
        .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
        .where(webhook_deliveries.c.event_id.in_(list(by_id)))
        .order_by(webhook_deliveries.c.endpoint_id)
    )
    deliveries: dict[str, Delivery] = {}
    for row in rows:
        delivery = Delivery(
            id=row.id, event_id=row.event_id, endpoint_id=row.endpoint_id, url=row.url, status=row.status,
            attempts=row.attempts, next_attempt_at=row.next_attempt_at, delivered_at=row.delivered_at,
            created_at=row.created_at,
        )
        deliveries[delivery.id] = delivery
        by_id[row.event_id].deliveries.append(delivery)
    if not with_attempts or not deliveries:
        return
    attempts = await tx.conn.execute(
        select(webhook_attempts)
        .where(webhook_attempts.c.delivery_id.in_(list(deliveries)))
        .order_by(webhook_attempts.c.attempted_at, webhook_attempts.c.id)
    )
    for row in attempts:
        deliveries[row.delivery_id].attempt_log.append(
            Attempt(
                id=row.id, delivery_id=row.delivery_id, attempted_at=row.attempted_at, status_code=row.status_code,
                latency_ms=row.latency_ms, error=row.error,
            )
        )


async def requeue_deliveries(tx: Tx, event_id: str, endpoint_ids: list[str]) -> list[str]:
    """Make the event's deliveries to these endpoints due now, from the start of the retry schedule.

    Clearing the lease means an attempt still in flight records only its log line, not the outcome.
    Returns the endpoints that had no delivery of this event yet.
    """
    if not endpoint_ids:
        return []
    existing = set(
        (
            await tx.conn.execute(
                select(webhook_deliveries.c.endpoint_id).where(
                    webhook_deliveries.c.event_id == event_id, webhook_deliveries.c.endpoint_id.in_(endpoint_ids)
                )
            )
        ).scalars()
    )
    if existing:
        await tx.conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.event_id == event_id, webhook_deliveries.c.endpoint_id.in_(existing))
            .values(
                status="pending", retry_step=0, next_attempt_at=tx.now, lease_token=None, lease_until=None,
                delivered_at=None, updated_at=tx.now,
            )
        )
    return [e for e in endpoint_ids if e not in existing]
