"""db/types.py: UTCDateTime stores aware instants identically on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, select
from sqlalchemy.exc import StatementError

from creditflow.db.types import UTCDateTime

_metadata = MetaData()
moments = Table(
    "test_moments", _metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime()),
    prefixes=["TEMPORARY"],
)
PLUS_5 = timezone(timedelta(hours=5, minutes=30))
MINUS_8 = timezone(timedelta(hours=-8))


async def _roundtrip(engine, values: list[datetime | None]) -> list[datetime | None]:
    async with engine.begin() as conn:
        await conn.run_sync(_metadata.create_all)
        await conn.execute(moments.insert(), [{"id": i, "at": v} for i, v in enumerate(values)])
        return list((await conn.execute(select(moments.c.at).order_by(moments.c.id))).scalars())


async def test_aware_datetimes_come_back_as_the_same_instant_in_utc(engine):
    sent = [datetime(2026, 3, 1, 12, 30, 45, 123456, tzinfo=PLUS_5), datetime(2026, 1, 1, tzinfo=UTC)]
    got = await _roundtrip(engine, sent)
    assert got == sent
    assert all(value is not None and value.utcoffset() == timedelta(0) for value in got)
    assert got[0] is not None and (got[0].hour, got[0].microsecond) == (7, 123456)


async def test_none_round_trips(engine):
    assert await _roundtrip(engine, [None]) == [None]


async def test_naive_datetimes_are_refused(engine):
    with pytest.raises(StatementError, match="timezone-aware"):
        await _roundtrip(engine, [datetime(2026, 1, 1, 12, 0)])


async def test_sql_order_and_comparison_follow_the_instant_not_the_local_time(engine):
    early = datetime(2026, 1, 1, 20, 0, tzinfo=MINUS_8)  # 2026-01-02 04:00 UTC
    late = datetime(2026, 1, 2, 9, 0, tzinfo=PLUS_5)  # 2026-01-02 03:30 UTC
    latest = datetime(2026, 1, 2, 3, 30, 0, 1, tzinfo=UTC)
    async with engine.begin() as conn:
        await conn.run_sync(_metadata.create_all)
        await conn.execute(moments.insert(), [{"id": 1, "at": early}, {"id": 2, "at": late}, {"id": 3, "at": latest}])
        ordered = (await conn.execute(select(moments.c.id).order_by(moments.c.at))).scalars().all()
        due = (await conn.execute(select(moments.c.id).where(moments.c.at <= late).order_by(moments.c.id))).scalars()
        assert ordered == [2, 3, 1]
        assert due.all() == [2]
