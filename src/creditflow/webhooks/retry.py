"""When a failed delivery is tried again: exponential backoff that keeps trying for more than three days,
so an endpoint down over a long weekend still gets every event."""

from __future__ import annotations

from datetime import timedelta

# The wait after the 1st, 2nd, ... failed attempt. The first attempt is immediate; the last of the
# 13 attempts comes 3 days 5 h 35 min 5 s after it. A failure after that marks the delivery failed.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    *(timedelta(hours=10),) * 7,
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def delay_after(failures: int) -> timedelta | None:
    """How long to wait after the `failures`-th failed attempt in a row; None: give up."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    return RETRY_DELAYS[failures - 1] if failures <= len(RETRY_DELAYS) else None


def total_span() -> timedelta:
    """From the first attempt to the last."""
    return sum(RETRY_DELAYS, timedelta())
