"""src/creditflow/jobs/occurrences.py: each day's occurrence runs once across runners, missed days are caught
up, and a day a dead runner left unfinished is taken over when its lease runs out."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from creditflow.db.tables import job_runs
from creditflow.jobs.occurrences import LEASE, MAX_CATCH_UP_DAYS, DailyJob, claim, due_days, run_daily

NOW = datetime(2026, 3, 10, 8, tzinfo=UTC)


def test_due_days_run_from_the_day_after_the_last_one_to_yesterday() -> None:
    today = date(2026, 3, 10)
    assert due_days(today, None) == [date(2026, 3, 9)]
    assert due_days(today, date(2026, 3, 6)) == [date(2026, 3, 7), date(2026, 3, 8), date(2026, 3, 9)]
    assert due_days(today, date(2026, 3, 9)) == []
    assert len(due_days(today, date(2020, 1, 1))) == MAX_CATCH_UP_DAYS


async def test_each_day_runs_once_however_many_runners_try(engine) -> None:
    ran: list[date] = []

    async def record(day: date, start: datetime, end: datetime) -> None:
        await asyncio.sleep(0.01)
        ran.append(day)

    job = DailyJob("count", "Asia/Jakarta", record)
    await asyncio.gather(*(run_daily(engine, job, NOW, f"runner-{n}") for n in range(4)))
    assert ran == [date(2026, 3, 9)]
    await run_daily(engine, job, NOW + timedelta(days=3), "runner-0")
    assert ran == [date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 11), date(2026, 3, 12)]


async def test_a_day_runs_with_its_bounds_in_the_jobs_time_zone(engine) -> None:
    bounds: list[tuple[datetime, datetime]] = []

    async def record(day: date, start: datetime, end: datetime) -> None:
        bounds.append((start, end))

    await run_daily(engine, DailyJob("bounds", "Asia/Jakarta", record), NOW, "runner")
    assert bounds == [(datetime(2026, 3, 8, 17, tzinfo=UTC), datetime(2026, 3, 9, 17, tzinfo=UTC))]


async def test_a_day_left_unfinished_by_a_dead_runner_is_taken_over_after_its_lease(engine) -> None:
    ran: list[str] = []

    async def record(day: date, start: datetime, end: datetime) -> None:
        ran.append(day.isoformat())

    occurrence = datetime(2026, 3, 9, tzinfo=UTC)
    assert await claim(engine, "takeover", occurrence, "dead", NOW)  # claimed, and its runner died
    job = DailyJob("takeover", "UTC", record)
    await run_daily(engine, job, NOW + timedelta(minutes=1), "alive")
    assert ran == []
    await run_daily(engine, job, NOW + LEASE + timedelta(minutes=1), "alive")
    assert ran == ["2026-03-09"]
    async with engine.connect() as conn:
        row = (await conn.execute(select(job_runs).where(job_runs.c.job == "takeover"))).one()
    assert (row.runner, row.finished_at is not None) == ("alive", True)
