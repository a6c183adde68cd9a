"""Carrying out deliveries: claim what is due (committed), POST it with no transaction open, record the outcome.

The claim is a lease: `lease_until` keeps every other worker off the row while this one sends, and
PostgreSQL's `FOR UPDATE SKIP LOCKED` keeps two workers from claiming the same row at the same moment
(SQLite gets the same from BEGIN IMMEDIATE: one writer at a time). A worker that dies mid-send loses
nothing: its lease runs out and another worker sends again (receivers dedupe on webhook-id). Only the
holder of the lease records the outcome, so a resend or a deletion made meanwhile is never overwritten.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.db.tables import webhook_attempts, webhook_deliveries, webhook_endpoints, webhook_events
from creditflow.ids import new_id
from creditflow.webhooks.retry import delay_after
from creditflow.webhooks.signing import lago_payload, lago_signed_headers, payload, signed_headers

# Longer than any send can take (the HTTP timeout, plus recording), so a live worker never loses its lease.
LEASE = timedelta(seconds=60)
# What is kept of an endpoint's answer to a failed attempt, and the most read of it.
ERROR_TEXT_LIMIT = 500
ATTEMPT_ID_PREFIX = "att"


@dataclass(slots=True, frozen=True)
class Claimed:
    """A delivery this worker holds the lease on, with what it needs to send it."""

    delivery_id: str
    lease_token: str
    retry_step: int
    event_id: str
    event_type: str
    event_created_at: datetime
    data: dict[str, Any]
    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    format: str = "standard"

    def secrets_at(self, moment: datetime) -> list[str]:
        """The current secret, and the previous one while a rotation's overlap lasts."""
        overlapping = self.previous_secret_expires_at is not None and moment < self.previous_secret_expires_at
        return [self.secret, self.previous_secret] if overlapping and self.previous_secret else [self.secret]


@dataclass(slots=True, frozen=True)
class Outcome:
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    error: str | None

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def claim_due(engine: AsyncEngine, now: datetime, *, limit: int) -> list[Claimed]:
    """Lease up to `limit` due deliveries to live endpoints, oldest due first, and commit the lease."""
    token = secrets.token_hex(16)
    async with engine.begin() as conn:
        due = (
            select(webhook_deliveries.c.id)
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(
                webhook_deliveries.c.status == "pending",
                webhook_deliveries.c.next_attempt_at <= now,
                or_(webhook_deliveries.c.lease_until.is_(None), webhook_deliveries.c.lease_until <= now),
                webhook_endpoints.c.disabled.is_(False),
                webhook_endpoints.c.deleted_at.is_(None),
            )
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=webhook_deliveries)
        )
        ids = list((await conn.execute(due)).scalars())
        if not ids:
            return []
        await conn.execute(
            update(webhook_deliveries)
            .where(webhook_deliveries.c.id.in_(ids))
            .values(lease_token=token, lease_until=now + LEASE, updated_at=now)
        )
        rows = await conn.execute(
            select(
                webhook_deliveries.c.id, webhook_deliveries.c.retry_step, webhook_events.c.id.label("event_id"),
                webhook_events.c.type, webhook_events.c.created_at, webhook_events.c.data, webhook_endpoints.c.url,
                webhook_endpoints.c.secret, webhook_endpoints.c.previous_secret,
                webhook_endpoints.c.previous_secret_expires_at, webhook_endpoints.c.format,
            )
            .join(webhook_events, webhook_events.c.id == webhook_deliveries.c.event_id)
            .join(webhook_endpoints, webhook_endpoints.c.id == webhook_deliveries.c.endpoint_id)
            .where(webhook_deliveries.c.id.in_(ids))
            .order_by(webhook_deliveries.c.next_attempt_at, webhook_deliveries.c.id)
        )
        return [
            Claimed(
                delivery_id=r.id, lease_token=token, retry_step=r.retry_step, event_id=r.event_id,
                event_type=r.type, event_created_at=r.created_at, data=r.data, url=r.url, secret=r.secret,
                previous_secret=r.previous_secret, previous_secret_expires_at=r.previous_secret_expires_at,
                format=r.format,
            )
            for r in rows
        ]


async def send(client: httpx.AsyncClient, claimed: Claimed, clock: Clock, *, wait_seconds: float) -> Outcome:
    """POST the signed event once. Never raises for anything the endpoint or the network does."""
    sent_at = clock.now()
    if claimed.format == "lago":
        # Lago's scheme carries one signature: the current secret's, also while a rotation overlaps.
        body = lago_payload(claimed.event_type, claimed.data)
        headers = lago_signed_headers(claimed.secret, claimed.event_id, body)
    else:
        body = payload(claimed.event_type, claimed.event_created_at, claimed.data)
        headers = signed_headers(claimed.secrets_at(sent_at), claimed.event_id, sent_at, body)
    # Latency is a measurement of this process, not business time: it comes from the monotonic counter.
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    try:
        # One deadline for the whole exchange: httpx's timeouts are per read, and a slow drip could outlast them.
        async with (
            asyncio.timeout(wait_seconds),
            client.stream("POST", claimed.url, content=body, headers=headers) as reply,
        ):
            status_code = reply.status_code
            if not 200 <= status_code < 300:
                error = f"HTTP {status_code}: {await _excerpt(reply)}".rstrip(": ")
    except TimeoutError:
        error = f"no answer within {wait_seconds:g} s"
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        error = (f"{type(exc).__name__}: {exc}".rstrip(": "))[:ERROR_TEXT_LIMIT]
    latency_ms = round((time.perf_counter() - started) * 1000)
    return Outcome(attempted_at=sent_at, status_code=status_code, latency_ms=latency_ms, error=error)


async def _excerpt(reply: httpx.Response) -> str:
    """The start of a failed answer's body (enough to see why), never the whole of a large one."""
    kept = b""
    async for chunk in reply.aiter_bytes():
        kept += chunk
        if len(kept) >= ERROR_TEXT_LIMIT:
            break
    return kept[:ERROR_TEXT_LIMIT].decode(errors="replace").strip()


async def record(engine: AsyncEngine, claimed: Claimed, outcome: Outcome, now: datetime) -> str:
    """Log the attempt and move the delivery on: delivered, due again after the backoff, or failed.

    Returns the delivery's new status ("superseded" when the lease was lost: only the log line was written).
    """
    delivery = webhook_deliveries.c
    async with engine.begin() as conn:
        await conn.execute(
            webhook_attempts.insert().values(
                id=new_id(ATTEMPT_ID_PREFIX), delivery_id=claimed.delivery_id, attempted_at=outcome.attempted_at,
                status_code=outcome.status_code, latency_ms=outcome.latency_ms, error=outcome.error,
            )
        )
        await conn.execute(
            update(webhook_deliveries).where(delivery.id == claimed.delivery_id).values(attempts=delivery.attempts + 1)
        )
        values: dict[str, Any]
        if outcome.delivered:
            status = "delivered"
            values = {"delivered_at": outcome.attempted_at, "next_attempt_at": None}
        else:
            step = claimed.retry_step + 1
            delay = delay_after(step)
            status = "pending" if delay is not None else "failed"
            values = {"retry_step": step, "next_attempt_at": now + delay if delay is not None else None}
        changed = await conn.execute(
            update(webhook_deliveries)
            .where(
                delivery.id == claimed.delivery_id,
                delivery.lease_token == claimed.lease_token,
                delivery.status == "pending",
            )
            .values(**values, status=status, lease_token=None, lease_until=None, updated_at=now)
        )
        return status if changed.rowcount else "superseded"
