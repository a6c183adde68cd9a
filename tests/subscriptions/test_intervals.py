"""src/creditflow/subscriptions/intervals.py: periods counted from an anchor, in the customer's time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from creditflow.subscriptions.intervals import period_bound, period_containing


@pytest.mark.parametrize(
    ("n", "expected"),
    [(0, datetime(2026, 1, 31, 10, tzinfo=UTC)), (1, datetime(2026, 2, 28, 10, tzinfo=UTC)),
     (2, datetime(2026, 3, 31, 10, tzinfo=UTC)), (3, datetime(2026, 4, 30, 10, tzinfo=UTC)),
     (12, datetime(2027, 1, 31, 10, tzinfo=UTC))],
)
def test_a_month_anchored_on_the_31st_keeps_coming_back_to_it(n: int, expected: datetime) -> None:
    assert period_bound(datetime(2026, 1, 31, 10, tzinfo=UTC), "month", n, "Asia/Jakarta") == expected


def test_a_year_from_a_leap_day_ends_on_the_28th() -> None:
    assert period_bound(datetime(2028, 2, 29, tzinfo=UTC), "year", 1, "UTC") == datetime(2029, 2, 28, tzinfo=UTC)
    assert period_bound(datetime(2028, 2, 29, tzinfo=UTC), "year", 4, "UTC") == datetime(2032, 2, 29, tzinfo=UTC)


def test_weeks_are_whole_local_days_across_a_daylight_saving_change() -> None:
    # Berlin moves to summer time on 2026-03-29: a week later is the same local hour, an hour earlier in UTC.
    start = datetime(2026, 3, 25, 12, tzinfo=UTC)
    assert period_bound(start, "week", 1, "Europe/Berlin") == datetime(2026, 4, 1, 11, tzinfo=UTC)
    assert period_bound(start, "week", 1, "UTC") == datetime(2026, 4, 1, 12, tzinfo=UTC)


def test_months_in_a_zone_ahead_of_utc_follow_the_local_date() -> None:
    # 2026-01-31 20:00 UTC is Feb 1, 03:00 in Jakarta: the local anchor day is the 1st.
    start = datetime(2026, 1, 31, 20, tzinfo=UTC)
    assert period_bound(start, "month", 1, "Asia/Jakarta") == datetime(2026, 2, 28, 20, tzinfo=UTC)


def test_the_period_containing_a_moment_follows_the_anchor() -> None:
    anchor = datetime(2026, 1, 31, 9, tzinfo=UTC)
    cases = [
        (datetime(2026, 2, 27, tzinfo=UTC), datetime(2026, 1, 31, 9, tzinfo=UTC)),
        (datetime(2026, 2, 28, 9, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 3, 30, tzinfo=UTC), datetime(2026, 2, 28, 9, tzinfo=UTC)),
        (datetime(2026, 3, 31, 9, tzinfo=UTC), datetime(2026, 3, 31, 9, tzinfo=UTC)),
        (datetime(2026, 1, 15, tzinfo=UTC), datetime(2025, 12, 31, 9, tzinfo=UTC)),
    ]
    for moment, start in cases:
        assert period_containing(anchor, "month", moment, "UTC") == start, moment
    assert period_containing(anchor, "week", datetime(2026, 2, 14, 9, tzinfo=UTC), "UTC") == datetime(
        2026, 2, 14, 9, tzinfo=UTC
    )
    assert period_containing(anchor, "week", datetime(2026, 2, 14, 8, tzinfo=UTC), "UTC") == datetime(
        2026, 2, 7, 9, tzinfo=UTC
    )
    assert period_containing(anchor, "year", datetime(2027, 1, 30, tzinfo=UTC), "UTC") == anchor
