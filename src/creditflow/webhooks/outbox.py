"""The outbox: `emit` records an event, and one delivery per endpoint that wants it, in the caller's own
transaction. Nothing touches the network here: the delivery job posts after commit, so a rolled-back change
never announces itself and a committed one always does."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from creditflow import money
from creditflow.db.tables import webhook_deliveries, webhook_endpoint_events, webhook_endpoints, webhook_events
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.webhooks.events import EVENT_TYPES

EVENT_ID_PREFIX = "msg"
DELIVERY_ID_PREFIX = "dlv"


async def emit(tx: Tx, event_type: str, data: dict[str, Any]) -> str:
    """Record `event_type` with `data` for every enabled endpoint subscribed to it; returns the event id.

    `data` must be plain JSON (str, int, bool, None, lists, str-keyed dicts): amounts as decimal strings
    (`amount_text`), times as ISO 8601 (`timestamp_text`). Anything else, or an event type missing from
    the catalogue, is a bug in the caller and raises ValueError before anything is written.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type '{event_type}'; add it to webhooks/events.py")
    if not isinstance(data, dict):
        raise ValueError("webhook data is a JSON object (a dict)")
    _check_json(data, "data")
    event_id = new_id(EVENT_ID_PREFIX)
    await tx.conn.execute(
        webhook_events.insert().values(
            id=event_id, type=event_type, data=data, actor=tx.actor, created_at=tx.now
        )
    )
    endpoint_ids = (await tx.conn.execute(subscribed_endpoints(event_type))).scalars().all()
    await queue_deliveries(tx, event_id, list(endpoint_ids))
    return event_id


def subscribed_endpoints(event_type: str) -> Any:
    """Ids of the endpoints, enabled and not deleted, that want `event_type`, in id order."""
    return (
        select(webhook_endpoints.c.id)
        .join(webhook_endpoint_events, webhook_endpoint_events.c.endpoint_id == webhook_endpoints.c.id)
        .where(
            webhook_endpoint_events.c.event_type == event_type,
            webhook_endpoints.c.disabled.is_(False),
            webhook_endpoints.c.deleted_at.is_(None),
        )
        .order_by(webhook_endpoints.c.id)
    )


async def queue_deliveries(tx: Tx, event_id: str, endpoint_ids: list[str]) -> None:
    """New deliveries of `event_id`, due now (the job sends them on its next pass)."""
    if not endpoint_ids:
        return
    await tx.conn.execute(
        webhook_deliveries.insert(),
        [
            {
                "id": new_id(DELIVERY_ID_PREFIX), "event_id": event_id, "endpoint_id": endpoint_id,
                "status": "pending", "attempts": 0, "retry_step": 0, "next_attempt_at": tx.now,
                "lease_token": None, "lease_until": None, "delivered_at": None,
                "created_at": tx.now, "updated_at": tx.now,
            }
            for endpoint_id in endpoint_ids
        ],
    )


def amount_text(micros: int, unit: str) -> str:
    """An amount as the API shows it ("12.50"): payloads never carry floats."""
    return money.format(micros, unit)


def timestamp_text(moment: datetime) -> str:
    """A moment as the API shows it: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _check_json(value: Any, path: str) -> None:
    # Floats are refused too: an amount that passed through a float may already be wrong.
    if value is None or isinstance(value, (str, bool, int)):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"webhook {path} has a non-string key {key!r}")
            _check_json(item, f"{path}.{key}")
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]")
        return
    raise ValueError(
        f"webhook {path} is a {type(value).__name__}, not JSON: send amounts with amount_text() "
        "and times with timestamp_text()"
    )
