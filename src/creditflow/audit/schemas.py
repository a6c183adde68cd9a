"""The audit log as the API shows it."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from creditflow.audit.models import AuditEvent


class AuditActor(BaseModel):
    type: str = Field(description="operator_key, console_user, cli or system.")
    id: str


class AuditEventOut(BaseModel):
    object: Literal["audit_event"] = "audit_event"
    id: str
    actor: AuditActor
    action: str = Field(examples=["credit_grant.create"])
    resource_type: str
    resource_id: str | None
    ip: str | None
    request_id: str | None = Field(description="The request's Idempotency-Key, when it sent one.")
    changes: dict[str, dict[str, Any]] = Field(
        description="{field: {before, after}} for each field the action changed; secrets are [redacted]."
    )
    created_at: datetime

    @classmethod
    def of(cls, event: AuditEvent) -> AuditEventOut:
        return cls(
            id=event.id, actor=AuditActor(type=event.actor_type, id=event.actor_id), action=event.action,
            resource_type=event.resource_type, resource_id=event.resource_id, ip=event.ip,
            request_id=event.request_id, changes=event.changes, created_at=event.created_at,
        )
