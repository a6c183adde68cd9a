"""An audit event: who changed what, when, from where, and the changed fields' before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ActorType(StrEnum):
    OPERATOR_KEY = "operator_key"
    CONSOLE_USER = "console_user"
    CLI = "cli"
    SYSTEM = "system"


# Tx.actor prefixes ("key:key_...", "user:usr_...") and the actor type each names.
_ACTOR_PREFIXES = {"key": ActorType.OPERATOR_KEY, "user": ActorType.CONSOLE_USER}


def parse_actor(actor: str) -> tuple[ActorType, str]:
    """Split a Tx.actor into (type, id): "key:key_1" -> (operator_key, key_1); "cli" -> (cli, cli)."""
    prefix, _, rest = actor.partition(":")
    if prefix in _ACTOR_PREFIXES and rest:
        return _ACTOR_PREFIXES[prefix], rest
    if actor == "cli":
        return ActorType.CLI, actor
    return ActorType.SYSTEM, actor


@dataclass(frozen=True, slots=True)
class Change:
    """What one operator action did to one resource; `before`/`after` are its API representations."""

    action: str
    resource_type: str
    resource_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: str
    actor_type: str
    actor_id: str
    action: str
    resource_type: str
    resource_id: str | None
    ip: str | None
    request_id: str | None
    changes: dict[str, dict[str, Any]]
    created_at: datetime
