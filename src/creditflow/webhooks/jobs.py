"""The delivery job the runner calls each pass (and tests call directly, moving the clock instead of sleeping)."""

from __future__ import annotations

import asyncio
import logging

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.webhooks.delivery import Claimed, claim_due, record, send

log = logging.getLogger("creditflow.webhooks")

BATCH = 100
TIMEOUT_SECONDS = 10.0
# Sends in flight at once per pass: one slow endpoint must not hold up every other.
CONCURRENCY = 8


async def deliver_due(
    engine: AsyncEngine,
    clock: Clock,
    *,
    limit: int = BATCH,
    wait_seconds: float = TIMEOUT_SECONDS,
    client: httpx.AsyncClient | None = None,
) -> int:
    """Send up to `limit` due deliveries once each, waiting at most `wait_seconds` for each answer; returns how
    many attempts were made."""
    claimed = await claim_due(engine, clock.now(), limit=limit)
    if not claimed:
        return 0
    gate = asyncio.Semaphore(CONCURRENCY)

    async def attempt(http: httpx.AsyncClient, item: Claimed) -> None:
        async with gate:
            outcome = await send(http, item, clock, wait_seconds=wait_seconds)
        status = await record(engine, item, outcome, clock.now())
        if not outcome.delivered:
            log.info("webhook %s to %s failed (%s); now %s", item.event_id, item.url, outcome.error, status)

    async def attempt_all(http: httpx.AsyncClient) -> None:
        # Every attempt finishes (and records) before a failure to record one is raised.
        results = await asyncio.gather(*(attempt(http, item) for item in claimed), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    if client is not None:
        await attempt_all(client)
    else:
        # Redirects are not followed: an endpoint answers for itself (a 3xx is a failed attempt).
        async with httpx.AsyncClient(timeout=wait_seconds, follow_redirects=False) as http:
            await attempt_all(http)
    return len(claimed)
