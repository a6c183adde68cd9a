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


def period_containing(anchor: datetime, interval: str, moment: datetime, timezone: str) -> datetime:
    """The start of the billing period (counted from `anchor`) that contains `moment`, as a UTC instant;
    a moment before the anchor falls in a period counted backwards."""
    local_anchor, local = anchor.astimezone(ZoneInfo(timezone)), moment.astimezone(ZoneInfo(timezone))
    if interval == "week":
        n = (local.replace(tzinfo=None) - local_anchor.replace(tzinfo=None)) // timedelta(weeks=1)
    else:
        months = (local.year - local_anchor.year) * 12 + local.month - local_anchor.month
        n = months // _MONTHS[interval]
    # The estimate is off by at most one where month lengths or the day of the month differ.
    while period_bound(anchor, interval, n, timezone) > moment:
        n -= 1
    while period_bound(anchor, interval, n + 1, timezone) <= moment:
        n += 1
    return period_bound(anchor, interval, n, timezone)
