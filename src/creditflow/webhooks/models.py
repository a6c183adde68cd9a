"""What the webhook service hands back: endpoints, events, their deliveries and attempts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class Endpoint:
    id: str
    url: str
    description: str | None
    secret: str
    events: list[str]
    disabled: bool
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = None
    format: str = "standard"


@dataclass(slots=True)
class Attempt:
    id: str
    delivery_id: str
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None


@dataclass(slots=True)
class Delivery:
    id: str
    event_id: str
    endpoint_id: str
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[Attempt] = field(default_factory=list)


@dataclass(slots=True)
class Event:
    id: str
    type: str
    data: dict[str, Any]
    created_at: datetime
    deliveries: list[Delivery] = field(default_factory=list)
