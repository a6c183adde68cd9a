"""Webhook endpoints (where operators want events) and the event log (what was sent, and resending it)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.webhooks import repository
from creditflow.webhooks.events import EVENT_TYPES, unknown_types
from creditflow.webhooks.models import Endpoint, Event
from creditflow.webhooks.outbox import queue_deliveries, subscribed_endpoints
from creditflow.webhooks.signing import FORMATS, new_secret

ENDPOINT_ID_PREFIX = "whe"
MAX_URL_LENGTH = 2048
UPDATABLE = frozenset({"url", "events", "description", "disabled"})
SECRET_OVERLAP = timedelta(hours=24)


def check_url(url: str) -> str:
    """An absolute http(s) URL with a host; ValueError says what is wrong."""
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"a URL is at most {MAX_URL_LENGTH} characters")
    if any(c.isspace() for c in url):
        raise ValueError("a URL has no spaces")
    try:
        parts = urlsplit(url)
        _ = parts.port  # reading it validates it
    except ValueError:
        raise ValueError(f"'{url}' is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("an absolute http:// or https:// URL is needed, such as https://example.com/webhooks")
    return url


def check_event_type(event_type: str) -> str:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type '{event_type}'; see GET /v1/webhook_event_types")
    return event_type


def _validated(url: str | None, events: list[str] | None) -> None:
    """The same rules as the request schemas, for callers that are not HTTP."""
    if url is not None:
        try:
            check_url(url)
        except ValueError as exc:
            raise InvalidRequest(str(exc), param="url") from None
    if events is not None:
        if not events:
            raise InvalidRequest("subscribe to at least one event type", param="events")
        unknown = unknown_types(events)
        if unknown:
            raise InvalidRequest(f"unknown event type '{unknown[0]}'", param="events")


async def create_endpoint(
    tx: Tx, *, url: str, events: list[str], description: str | None = None, format: str = "standard"
) -> Endpoint:
    """A new endpoint for `events`, with its own signing secret. Events emitted from now on reach it, in
    `format`: "standard" (Standard Webhooks) or "lago" (Lago's body, signed with X-Lago-Signature)."""
    _validated(url, events)
    if format not in FORMATS:
        raise InvalidRequest(f"format must be one of {', '.join(FORMATS)}", param="format")
    endpoint_id = new_id(ENDPOINT_ID_PREFIX)
    await repository.insert_endpoint(
        tx, endpoint_id=endpoint_id, url=url, description=description, secret=new_secret(), events=events,
        format=format,
    )
    return await get_endpoint(tx, endpoint_id)


async def get_endpoint(tx: Tx, endpoint_id: str, *, for_update: bool = False) -> Endpoint:
    endpoint = await repository.load_endpoint(tx, endpoint_id, for_update=for_update)
    if endpoint is None:
        raise NotFound(f"no webhook endpoint '{endpoint_id}'", param="id")
    return endpoint


async def list_endpoints(tx: Tx, *, limit: int, starting_after: str | None) -> list[Endpoint]:
    return await repository.list_endpoints(tx, limit=limit, starting_after=starting_after)


async def update_endpoint(tx: Tx, endpoint_id: str, changes: dict[str, Any]) -> Endpoint:
    """Change url, events, description or disabled. A disabled endpoint gets nothing new and its pending
    deliveries wait (they go out when it is enabled again, if still within their schedule)."""
    unknown = set(changes) - UPDATABLE
    if unknown:
        raise InvalidRequest(f"'{sorted(unknown)[0]}' cannot be changed", param=sorted(unknown)[0])
    _validated(changes.get("url"), changes.get("events"))
    await get_endpoint(tx, endpoint_id, for_update=True)
    values = {k: v for k, v in changes.items() if k != "events"}
    if values:
        await repository.update_endpoint(tx, endpoint_id, values)
    if "events" in changes:
        await repository.replace_subscriptions(tx, endpoint_id, changes["events"])
        if not values:
            await repository.update_endpoint(tx, endpoint_id, {})
    return await get_endpoint(tx, endpoint_id)


async def rotate_secret(tx: Tx, endpoint_id: str) -> Endpoint:
    """A new signing secret. For SECRET_OVERLAP every request is signed with the old one too (Standard Webhooks
    allows several signatures), so receivers can switch over without missing or refusing a delivery."""
    endpoint = await get_endpoint(tx, endpoint_id, for_update=True)
    await repository.update_endpoint(tx, endpoint_id, {
        "secret": new_secret(), "previous_secret": endpoint.secret,
        "previous_secret_expires_at": tx.now + SECRET_OVERLAP,
    })
    return await get_endpoint(tx, endpoint_id)


async def delete_endpoint(tx: Tx, endpoint_id: str) -> None:
    """Stop sending to it for good. Its past deliveries and attempts stay in the event log."""
    await get_endpoint(tx, endpoint_id, for_update=True)
    await repository.update_endpoint(tx, endpoint_id, {"deleted_at": tx.now, "disabled": True})
    await repository.cancel_pending_deliveries(tx, endpoint_id)


async def list_events(tx: Tx, *, event_type: str | None, limit: int, starting_after: str | None) -> list[Event]:
    """Newest first, each with its deliveries."""
    if event_type is not None and event_type not in EVENT_TYPES:
        raise InvalidRequest(f"unknown event type '{event_type}'", param="type")
    events = await repository.list_events(tx, event_type=event_type, limit=limit, starting_after=starting_after)
    await repository.attach_deliveries(tx, events)
    return events


async def get_event(tx: Tx, event_id: str) -> Event:
    """The event with its deliveries and every attempt each one made."""
    event = await repository.load_event(tx, event_id)
    if event is None:
        raise NotFound(f"no webhook event '{event_id}'", param="id")
    await repository.attach_deliveries(tx, [event], with_attempts=True)
    return event


async def resend_event(tx: Tx, event_id: str) -> Event:
    """Send the event again, now, to every enabled endpoint subscribed to its type today, whatever became of
    earlier deliveries. Receivers see the same webhook-id, so one that already processed it can skip it."""
    event = await get_event(tx, event_id)
    endpoint_ids = list((await tx.conn.execute(subscribed_endpoints(event.type))).scalars())
    fresh = await repository.requeue_deliveries(tx, event.id, endpoint_ids)
    await queue_deliveries(tx, event.id, fresh)
    return await get_event(tx, event_id)
