"""Billing periods counted from an anchor: the n-th period of a monthly plan anchored on Jan 31 ends on the
last day of February, and the next one is back on the 31st. Calendar arithmetic happens in the customer's
time zone, so a period is whole local days across a daylight-saving change."""

from __future__ import annotations

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {"month": 1, "year": 12}


def period_bound(anchor: datetime, interval: str, n: int, timezone: str) -> datetime:
    """The start of period `n` (0 is the anchor itself), as a UTC instant."""
    zone = ZoneInfo(timezone)
    local = anchor.astimezone(zone)
    if interval == "week":
        moved = local.replace(tzinfo=None) + timedelta(weeks=n)
    else:
        months = local.month - 1 + n * _MONTHS[interval]
        year, month = local.year + months // 12, months % 12 + 1
        day = min(local.day, calendar.monthrange(year, month)[1])
        moved = local.replace(tzinfo=None, year=year, month=month, day=day)
    return moved.replace(tzinfo=zone).astimezone(anchor.tzinfo)
