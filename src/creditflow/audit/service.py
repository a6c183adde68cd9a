"""Recording and reading the audit log. A change is recorded in the transaction that makes it (the caller's
Tx), so the log and the change commit together or not at all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from creditflow.audit import repository
from creditflow.audit.models import AuditEvent, Change, parse_actor
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest
from creditflow.ids import new_id

# Shown once at creation and never kept: the log says they changed, not what they are.
SECRET_FIELDS = frozenset({"secret", "key", "previous_secret"})
# Bookkeeping that changes with every write and says nothing about what the operator did.
IGNORED_FIELDS = frozenset({"object", "updated_at"})
REDACTED = "[redacted]"


def _redact(fields: dict[str, Any] | None) -> dict[str, Any]:
    return {k: (REDACTED if k in SECRET_FIELDS and v is not None else v) for k, v in (fields or {}).items()}


def changed_fields(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """{field: {"before", "after"}} for every top-level field whose value differs (all of them on a create).
    Secrets are compared as they are and written redacted, so a rotation shows up without its values."""
    old, new = before or {}, after or {}
    shown_old, shown_new = _redact(before), _redact(after)
    names = [name for name in {**old, **new} if name not in IGNORED_FIELDS]
    return {
        name: {"before": shown_old.get(name), "after": shown_new.get(name)}
        for name in names
        if old.get(name) != new.get(name)
    }


async def record(tx: Tx, change: Change, *, ip: str | None = None, request_id: str | None = None) -> AuditEvent:
    """Append one event for `change`, made by tx.actor, at tx.now, in tx's transaction."""
    actor_type, actor_id = parse_actor(tx.actor)
    event = AuditEvent(
        id=new_id("aud"), actor_type=actor_type, actor_id=actor_id, action=change.action,
        resource_type=change.resource_type, resource_id=change.resource_id, ip=ip, request_id=request_id,
        changes=changed_fields(change.before, change.after), created_at=tx.now,
    )
    await repository.insert(tx, event)
    return event


async def list_events(
    tx: Tx, *, actor: str | None = None, resource: str | None = None, since: datetime | None = None,
    until: datetime | None = None, limit: int, starting_after: str | None = None,
) -> list[AuditEvent]:
    """Newest first. `actor` is an operator key or console user id; `resource` a resource id or type."""
    if since is not None and until is not None and since >= until:
        raise InvalidRequest("from must be before to", param="from")
    return await repository.list_events(
        tx, actor=actor, resource=resource, since=since, until=until, limit=limit, starting_after=starting_after
    )
