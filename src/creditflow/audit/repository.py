"""Audit rows: inserted, listed; never updated or deleted (the database refuses both)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select

from creditflow.audit.models import AuditEvent
from creditflow.db.pagination import newest_first
from creditflow.db.tables import audit_events
from creditflow.db.tx import Tx


async def insert(tx: Tx, event: AuditEvent) -> None:
    await tx.conn.execute(audit_events.insert().values(**{f: getattr(event, f) for f in AuditEvent.__slots__}))


def _event(row: Any) -> AuditEvent:
    return AuditEvent(**{field: row._mapping[field] for field in AuditEvent.__slots__})


async def list_events(
    tx: Tx, *, actor: str | None, resource: str | None, since: datetime | None, until: datetime | None,
    limit: int, starting_after: str | None,
) -> list[AuditEvent]:
    query = select(audit_events)
    if actor is not None:
        query = query.where(audit_events.c.actor_id == actor)
    if resource is not None:
        query = query.where(or_(audit_events.c.resource_id == resource, audit_events.c.resource_type == resource))
    if since is not None:
        query = query.where(audit_events.c.created_at >= since)
    if until is not None:
        query = query.where(audit_events.c.created_at < until)
    query = newest_first(query, audit_events.c.id, limit=limit, starting_after=starting_after)
    return [_event(row) for row in (await tx.conn.execute(query)).all()]
