"""Redis stopped mid-run: rate limits fall back to each process on its own, logged once, then shared again.

The Redis here is a private one this test starts and stops itself, never the machine's shared server.
"""

from __future__ import annotations

import logging
import subprocess
import time
from datetime import UTC, datetime

import redis

from creditflow.ratelimit.redis_limiter import RedisRateLimiter
from tests.test_cli import free_port

NOW = datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC)


def _start_redis(port: int, directory) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while True:
        try:
            if redis.Redis(port=port).ping():
                return process
        except redis.ConnectionError:
            assert time.monotonic() < deadline, "private redis did not start"
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=10)


async def test_rate_limits_fall_back_per_process_while_redis_is_down(tmp_path, caplog):
    port = free_port()
    server = _start_redis(port, tmp_path)
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{port}/0")
    try:
        shared = [(await limiter.hit("k", 3, 60, NOW)).allowed for _ in range(4)]
        _stop(server)
        with caplog.at_level(logging.WARNING, logger="creditflow.ratelimit"):
            alone = [(await limiter.hit("k", 3, 60, NOW)).allowed for _ in range(5)]
            server = _start_redis(port, tmp_path)
            back = [(await limiter.hit("k", 3, 60, NOW)).allowed for _ in range(4)]
    finally:
        await limiter.aclose()
        _stop(server)
    assert shared == [True, True, True, False]
    # Limits still hold while Redis is away, counted in this process alone.
    assert alone == [True, True, True, False, False]
    # The restarted Redis is empty (no persistence here): the shared count starts over.
    assert back == [True, True, True, False]
    messages = [r.getMessage() for r in caplog.records if r.name == "creditflow.ratelimit"]
    assert len(messages) == 2
    assert messages[0].startswith("Redis unreachable") and messages[1].startswith("Redis reachable again")
