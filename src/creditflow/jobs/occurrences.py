"""Calendar jobs (the daily summary) run once per occurrence, however many runners share the database: a
runner claims an occurrence by inserting its row (the primary key lets one insert win), runs it, and marks
it finished. A runner that dies mid-job leaves a lease; once it has run out another runner takes over (the
jobs are idempotent). Occurrences missed while no runner was up are run, oldest first, on the next pass.

Jobs that work through items (expiry, renewals, top-up reconciliation, webhook deliveries) need no
occurrences: every pass claims the items that are due, each under its own row lock.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import job_runs

log = logging.getLogger("creditflow.jobs")

LEASE = timedelta(minutes=10)
# On a first start, or after a long outage, at most this many past days are run.
MAX_CATCH_UP_DAYS = 366

DailyRun = Callable[[date, datetime, datetime], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class DailyJob:
    """Runs once for each finished day in `timezone`: run(day, start, end) with the day's UTC bounds."""

    name: str
    timezone: str
    run: DailyRun


def runner_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def day_bounds(day: date, timezone: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(timezone)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    following = day + timedelta(days=1)
    return start, datetime(following.year, following.month, following.day, tzinfo=zone)


async def claim(engine: AsyncEngine, job: str, occurrence: datetime, runner: str, now: datetime) -> bool:
    """Whether this runner now owns the occurrence: it inserted the row, or took over an expired lease."""
    async with engine.begin() as conn:
        await insert_ignoring_conflicts(conn, job_runs, [{
            "job": job, "occurrence_at": occurrence, "runner": runner, "claimed_at": now, "lease_until": now + LEASE,
        }])
        taken = await conn.execute(
            update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.occurrence_at == occurrence, job_runs.c.finished_at.is_(None),
                   (job_runs.c.runner == runner) | (job_runs.c.lease_until < now))
            .values(runner=runner, claimed_at=now, lease_until=now + LEASE)
        )
        return taken.rowcount == 1


async def finish(engine: AsyncEngine, job: str, occurrence: datetime, runner: str, now: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(job_runs)
            .where(job_runs.c.job == job, job_runs.c.occurrence_at == occurrence, job_runs.c.runner == runner)
            .values(finished_at=now)
        )


async def _last_finished(engine: AsyncEngine, job: str) -> datetime | None:
    async with engine.connect() as conn:
        return (
            await conn.execute(
                select(func.max(job_runs.c.occurrence_at)).where(job_runs.c.job == job,
                                                                 job_runs.c.finished_at.is_not(None))
            )
        ).scalar_one_or_none()


def due_days(today: date, last_done: date | None) -> list[date]:
    """The finished days not yet run: from the day after the last one done (or only yesterday, on a first
    start), up to yesterday, at most MAX_CATCH_UP_DAYS of them."""
    yesterday = today - timedelta(days=1)
    first = yesterday if last_done is None else last_done + timedelta(days=1)
    first = max(first, yesterday - timedelta(days=MAX_CATCH_UP_DAYS - 1))
    return [first + timedelta(days=n) for n in range((yesterday - first).days + 1)]


async def _abandoned(engine: AsyncEngine, job: str, now: datetime) -> list[datetime]:
    """Occurrences a runner claimed and never finished, whose lease has run out."""
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(job_runs.c.occurrence_at).where(
                job_runs.c.job == job, job_runs.c.finished_at.is_(None), job_runs.c.lease_until < now
            )
        )
        return list(rows.scalars().all())


async def run_daily(engine: AsyncEngine, job: DailyJob, now: datetime, runner: str) -> int:
    """Run every finished day this job has not done yet (and any a dead runner left unfinished); returns how
    many days this runner ran."""
    zone = ZoneInfo(job.timezone)
    last = await _last_finished(engine, job.name)
    days = set(due_days(now.astimezone(zone).date(), last.astimezone(zone).date() if last else None))
    days.update(moment.astimezone(zone).date() for moment in await _abandoned(engine, job.name, now))
    ran = 0
    for day in sorted(days):
        start, end = day_bounds(day, job.timezone)
        if not await claim(engine, job.name, start, runner, now):
            continue
        await job.run(day, start, end)
        await finish(engine, job.name, start, runner, now)
        ran += 1
    return ran
