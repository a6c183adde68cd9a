"""Rate limiter behaviour, run on both the in-process limiter and Redis (see conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from creditflow.ratelimit import Decision, InProcessRateLimiter, RateLimiter, create_rate_limiter
from creditflow.ratelimit.redis_limiter import RedisRateLimiter

T0 = datetime(2026, 1, 1, tzinfo=UTC)  # the start of a minute window (and of a second window)
MINUTE = 60
SECOND = 1


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def hits(limiter: RateLimiter, key: str, count: int, limit: int, window: int, now: datetime) -> list[Decision]:
    return [await limiter.hit(key, limit, window, now) for _ in range(count)]


async def test_limit_is_enforced_exactly_within_a_window(limiter: RateLimiter, key: str) -> None:
    decisions = await hits(limiter, key, 6, limit=5, window=MINUTE, now=at(10))

    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert (await limiter.hit(key, 5, MINUTE, at(59.999))).allowed is False


async def test_retry_after_is_the_first_whole_second_a_hit_is_allowed_again(limiter: RateLimiter, key: str) -> None:
    await hits(limiter, key, 10, limit=10, window=MINUTE, now=at(30))
    denied = await limiter.hit(key, 10, MINUTE, at(30))

    # Next window: the previous 10 hits weigh 10 * (60 - e) / 60 and must fall to 9, at e = 6 s.
    assert denied == Decision(allowed=False, remaining=0, retry_after=36)
    assert (await limiter.hit(key, 10, MINUTE, at(30 + 35))).allowed is False
    assert (await limiter.hit(key, 10, MINUTE, at(30 + 36))).allowed is True


async def test_retry_after_is_at_least_one_second(limiter: RateLimiter, key: str) -> None:
    await hits(limiter, key, 1, limit=1, window=MINUTE, now=at(0))
    await limiter.hit(key, 1, MINUTE, at(60))  # denied: the previous window still weighs 1

    denied = await limiter.hit(key, 1, MINUTE, at(119.9))

    assert denied.allowed is False
    assert denied.retry_after == 1


async def test_rollover_weighs_the_previous_window_by_its_remaining_overlap(limiter: RateLimiter, key: str) -> None:
    await hits(limiter, key, 10, limit=10, window=MINUTE, now=at(0))

    at_rollover = await limiter.hit(key, 10, MINUTE, at(60))
    halfway = await hits(limiter, key, 6, limit=10, window=MINUTE, now=at(90))

    assert at_rollover == Decision(allowed=False, remaining=0, retry_after=6)
    # Halfway through, the previous 10 hits count as 5: five more fit.
    assert [d.allowed for d in halfway] == [True] * 5 + [False]


async def test_limit_is_fully_available_two_windows_later(limiter: RateLimiter, key: str) -> None:
    await hits(limiter, key, 11, limit=10, window=MINUTE, now=at(0))

    decisions = await hits(limiter, key, 11, limit=10, window=MINUTE, now=at(120))

    assert [d.allowed for d in decisions] == [True] * 10 + [False]


async def test_per_second_limit_rolls_over_by_the_second(limiter: RateLimiter, key: str) -> None:
    first = await hits(limiter, key, 4, limit=3, window=SECOND, now=at(0.5))
    next_second = await limiter.hit(key, 3, SECOND, at(1.5))
    later = await hits(limiter, key, 4, limit=3, window=SECOND, now=at(3))

    assert [d.allowed for d in first] == [True, True, True, False]
    assert first[-1].retry_after == 1
    assert next_second.allowed is True  # the previous second's 3 hits weigh 1.5 halfway through
    assert [d.allowed for d in later] == [True, True, True, False]


async def test_per_second_and_per_minute_limits_of_one_key_are_counted_apart(
    limiter: RateLimiter, key: str
) -> None:
    per_second = await hits(limiter, key, 3, limit=2, window=SECOND, now=at(5))
    per_minute = await hits(limiter, key, 4, limit=3, window=MINUTE, now=at(5))

    assert [d.allowed for d in per_second] == [True, True, False]
    assert [d.allowed for d in per_minute] == [True, True, True, False]


async def test_keys_are_limited_independently(limiter: RateLimiter, key: str) -> None:
    exhausted = await hits(limiter, f"{key}-a", 3, limit=2, window=MINUTE, now=at(1))
    other = await hits(limiter, f"{key}-b", 2, limit=2, window=MINUTE, now=at(1))

    assert [d.allowed for d in exhausted] == [True, True, False]
    assert [d.allowed for d in other] == [True, True]


async def test_concurrent_hits_allow_exactly_the_limit(limiter: RateLimiter, key: str) -> None:
    decisions = await asyncio.gather(*(limiter.hit(key, 20, MINUTE, at(1)) for _ in range(50)))

    assert sum(d.allowed for d in decisions) == 20
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(20))


async def test_denied_hits_are_not_counted(limiter: RateLimiter, key: str) -> None:
    await hits(limiter, key, 30, limit=10, window=MINUTE, now=at(0))

    # Had the 20 denied hits counted, the previous window would weigh 30 * 54/60 = 27 here.
    assert (await limiter.hit(key, 10, MINUTE, at(66))).allowed is True


@pytest.mark.parametrize(("limit", "window"), [(0, MINUTE), (5, 0)])
async def test_limit_and_window_must_be_positive(limiter: RateLimiter, key: str, limit: int, window: int) -> None:
    with pytest.raises(ValueError):
        await limiter.hit(key, limit, window, at(0))


async def test_in_process_limiter_forgets_keys_two_windows_after_their_last_hit() -> None:
    limiter = InProcessRateLimiter()
    for n in range(100):
        await limiter.hit(f"old-{n}", 5, MINUTE, at(0))
    await limiter.hit("recent", 5, MINUTE, at(90))

    await limiter.hit("new", 5, MINUTE, at(120))

    assert len(limiter) == 2  # "recent" still weighs as the previous window; the 100 old keys are gone


async def test_factory_builds_an_in_process_limiter_without_a_redis_url() -> None:
    assert isinstance(create_rate_limiter(None), InProcessRateLimiter)


async def test_factory_builds_a_redis_limiter_from_a_redis_url(redis_url: str, key: str) -> None:
    limiter = create_rate_limiter(redis_url)
    try:
        assert isinstance(limiter, RedisRateLimiter)
        assert (await limiter.hit(key, 1, MINUTE, at(0))).allowed is True
    finally:
        await limiter.aclose()
