"""Rate limiter fixtures: each limiter test runs on the in-process limiter and on the real Redis.

Redis tests skip with a reason when no server answers at CREDITFLOW_TEST_REDIS_URL, unless
CREDITFLOW_REQUIRE_REDIS=1 (as in CI), where they fail instead. Each test gets a unique key prefix and its
Redis keys are deleted afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from creditflow.ratelimit import InProcessRateLimiter, RateLimiter
from creditflow.ratelimit.redis_limiter import KEY_PREFIX, RedisRateLimiter

REDIS_URL = os.environ.get("CREDITFLOW_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REQUIRE_REDIS = os.environ.get("CREDITFLOW_REQUIRE_REDIS") == "1"


@pytest.fixture(scope="session")
def redis_unavailable() -> str | None:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc}"
    finally:
        client.close()
    return None


@pytest.fixture
def key() -> str:
    """A key prefix no other test uses."""
    return f"test-{uuid.uuid4().hex}"


@pytest.fixture
def redis_url(redis_unavailable: str | None, key: str) -> Iterator[str]:
    if redis_unavailable:
        if REQUIRE_REDIS:
            pytest.fail(redis_unavailable)
        pytest.skip(redis_unavailable)
    yield REDIS_URL
    with redis.Redis.from_url(REDIS_URL) as client:
        stale = list(client.scan_iter(match=f"{KEY_PREFIX}{key}*"))
        if stale:
            client.delete(*stale)


@pytest.fixture(params=["in_process", "redis"])
async def limiter(request: pytest.FixtureRequest) -> AsyncIterator[RateLimiter]:
    if request.param == "redis":
        instance: RateLimiter = RedisRateLimiter(request.getfixturevalue("redis_url"))
    else:
        instance = InProcessRateLimiter()
    yield instance
    await instance.aclose()
