"""webhooks/retry.py: exponential backoff that keeps trying for more than three days, then gives up."""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import pytest

from creditflow.webhooks.retry import MAX_ATTEMPTS, RETRY_DELAYS, delay_after, total_span


def test_the_waits_grow_and_never_shrink():
    assert list(RETRY_DELAYS[:5]) == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2), timedelta(hours=5)
    ]
    assert all(a <= b for a, b in pairwise(RETRY_DELAYS))


def test_the_schedule_spans_more_than_three_days():
    assert total_span() > timedelta(days=3)
    assert total_span() == timedelta(days=3, hours=5, minutes=35, seconds=5)
    assert MAX_ATTEMPTS == 13


def test_after_the_last_wait_it_gives_up():
    assert delay_after(1) == timedelta(seconds=5)
    assert delay_after(MAX_ATTEMPTS - 1) == timedelta(hours=10)
    assert delay_after(MAX_ATTEMPTS) is None


def test_failures_count_from_one():
    with pytest.raises(ValueError):
        delay_after(0)
