"""Calendar periods in a time zone: where usage aggregates, free units and budgets start over."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PERIODS = ("day", "week", "month", "none")
# "none": one period forever; its start is a fixed instant so it still keys the aggregate.
FOREVER = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(period: str, moment: datetime, timezone: str) -> datetime:
    """The UTC instant at which the calendar `period` containing `moment` began, in `timezone`."""
    if period == "none":
        return FOREVER
    local = moment.astimezone(ZoneInfo(timezone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        start = midnight
    elif period == "week":
        start = midnight - timedelta(days=local.weekday())
    elif period == "month":
        start = midnight.replace(day=1)
    else:
        raise ValueError(f"unknown period {period!r}")
    # Rebuild the wall time in the zone so a DST change between the two dates gets its own offset.
    return datetime(start.year, start.month, start.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def period_end(period: str, start: datetime, timezone: str) -> datetime | None:
    """The UTC instant at which the calendar `period` beginning at `start` ends (None: it never does)."""
    if period == "none":
        return None
    local = start.astimezone(ZoneInfo(timezone))
    if period == "day":
        day = local.date() + timedelta(days=1)
    elif period == "week":
        day = local.date() + timedelta(days=7)
    elif period == "month":
        day = (local.replace(day=28) + timedelta(days=4)).replace(day=1).date()
    else:
        raise ValueError(f"unknown period {period!r}")
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(timezone)).astimezone(UTC)
