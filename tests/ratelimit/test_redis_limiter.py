"""What only the Redis limiter does: share one limit across OS processes, expire its keys, reload its script."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime

import redis.asyncio as redis

from creditflow.ratelimit.redis_limiter import RedisRateLimiter

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# A separate process: hits one key `hits` times at once and prints how many were allowed.
WORKER = """
import asyncio, sys
from datetime import datetime
from creditflow.ratelimit.redis_limiter import RedisRateLimiter

async def main(url, key, limit, hits, now):
    limiter = RedisRateLimiter(url)
    decisions = await asyncio.gather(*(limiter.hit(key, limit, 60, now) for _ in range(hits)))
    await limiter.aclose()
    print(sum(d.allowed for d in decisions))

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), datetime.fromisoformat(sys.argv[5])))
"""


async def run_worker(url: str, key: str, limit: int, hits: int) -> int:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", WORKER, url, key, str(limit), str(hits), T0.isoformat(),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await process.communicate()
    assert process.returncode == 0, stderr.decode()
    return int(stdout)


async def test_two_processes_share_one_limit(redis_url: str, key: str) -> None:
    allowed = await asyncio.gather(*(run_worker(redis_url, key, limit=25, hits=40) for _ in range(2)))

    assert sum(allowed) == 25


async def test_window_keys_are_namespaced_and_expire_after_the_next_window(redis_url: str, key: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        await limiter.hit(key, 5, 60, T0.replace(second=15))

        window_start = int(T0.timestamp())
        name = f"creditflow:rl:{key}:60:{window_start}"
        assert await client.get(name) == b"1"
        # Needed until the end of the next window: 45 s of this one plus 60 s of the next.
        assert 100_000 < await client.pttl(name) <= 105_000
    finally:
        await limiter.aclose()
        await client.aclose()


async def test_denied_hits_write_nothing(redis_url: str, key: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        await limiter.hit(key, 1, 60, T0)
        await limiter.hit(key, 1, 60, T0)

        assert await client.get(f"creditflow:rl:{key}:60:{int(T0.timestamp())}") == b"1"
    finally:
        await limiter.aclose()
        await client.aclose()


async def test_script_is_loaded_again_when_redis_has_forgotten_it(redis_url: str, key: str) -> None:
    limiter = RedisRateLimiter(redis_url)
    client = redis.Redis.from_url(redis_url)
    try:
        assert (await limiter.hit(key, 2, 60, T0)).allowed is True
        await client.script_flush()

        decisions = [await limiter.hit(key, 2, 60, T0) for _ in range(2)]

        assert [d.allowed for d in decisions] == [True, False]
    finally:
        await limiter.aclose()
        await client.aclose()
