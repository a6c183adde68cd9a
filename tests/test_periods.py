"""periods.py: calendar period starts in a time zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from creditflow.periods import FOREVER, period_start


def test_month_starts_at_local_midnight_in_the_customers_timezone():
    # 18:00 UTC on 31 January is 01:00 on 1 February in Jakarta (UTC+7).
    moment = datetime(2026, 1, 31, 18, 0, tzinfo=UTC)
    assert period_start("month", moment, "Asia/Jakarta") == datetime(2026, 1, 31, 17, 0, tzinfo=UTC)
    assert period_start("month", moment, "UTC") == datetime(2026, 1, 1, tzinfo=UTC)


def test_day_and_week_periods():
    moment = datetime(2026, 1, 8, 3, 0, tzinfo=UTC)  # a Thursday
    assert period_start("day", moment, "UTC") == datetime(2026, 1, 8, tzinfo=UTC)
    assert period_start("week", moment, "UTC") == datetime(2026, 1, 5, tzinfo=UTC)  # Monday
    assert period_start("day", moment, "America/New_York") == datetime(2026, 1, 7, 5, 0, tzinfo=UTC)


def test_month_start_uses_the_offset_in_force_on_the_first_of_the_month():
    # New York is on EDT (UTC-4) on 15 March 2026 but was on EST (UTC-5) at midnight on 1 March.
    moment = datetime(2026, 3, 15, 12, 0, tzinfo=UTC)
    assert period_start("month", moment, "America/New_York") == datetime(2026, 3, 1, 5, 0, tzinfo=UTC)


def test_none_period_is_one_period_forever():
    assert period_start("none", datetime(2026, 5, 5, tzinfo=UTC), "Asia/Jakarta") == FOREVER


def test_unknown_period_is_refused():
    with pytest.raises(ValueError):
        period_start("year", datetime(2026, 1, 1, tzinfo=UTC), "UTC")
