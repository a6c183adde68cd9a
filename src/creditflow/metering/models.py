"""Metering domain objects (no SQL, no HTTP)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class EventRequest:
    customer: str
    metric: str
    transaction_id: str
    timestamp: datetime | None = None
    properties: dict[str, Any] = field(default_factory=dict)
    api_key: str | None = None
    actor: str | None = None
    # Which request of a group-committed transaction it came in: its charged events share a debit only
    # with the other events of that request.
    origin: int = 0


@dataclass(slots=True)
class EventResult:
    id: str
    customer_id: str
    metric: str
    transaction_id: str
    timestamp: datetime
    properties: dict[str, Any]
    quantity: int
    cost: int
    currency: str | None
    price_id: str | None
    operation_id: str | None
    refunded: int
    created_at: datetime
    available: int | None = None
    duplicate: bool = False
    # What the wallet could not cover of `cost` when the caller asked for partial cover (never charged here).
    uncovered: int = 0


@dataclass(slots=True)
class Aggregate:
    units: int
    events: int
    cost: int
    exists: bool
