"""The sliding-window counter of limiter.py, shared by every process through Redis.

One atomic Lua script reads the previous window's count, checks the limit and counts the hit, so processes
never race. Keys are `creditflow:rl:<key>:<window_seconds>:<window_start>` (the window length is part of the
key so that one key limited per second and per minute keeps two separate counts) and expire once they can
no longer matter. `now` is passed to the script: Redis's own clock is never read.

When Redis cannot be reached, each process limits on its own (the in-process limiter) until it answers
again: limits stay enforced per process rather than failing every request. The switch is logged once each
way, not once per request.
"""

from __future__ import annotations

import logging
from datetime import datetime

import redis.asyncio as redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from creditflow.ratelimit.limiter import (
    Decision,
    InProcessRateLimiter,
    Window,
    check_arguments,
    decide,
    window_at,
)

log = logging.getLogger("creditflow.ratelimit")
# A Redis that does not answer within this long counts as down for this hit.
REDIS_TIMEOUT_SECONDS = 1.0

KEY_PREFIX = "creditflow:rl:"

# KEYS: current window, previous window. ARGV: limit, window length (ms), elapsed in window (ms), TTL (ms).
# Returns {allowed (0|1), previous count, current count including this hit when allowed}.
# Lua numbers are doubles: every product below stays far under 2^53, so the arithmetic is exact.
_SCRIPT = """
local limit = tonumber(ARGV[1])
local length = tonumber(ARGV[2])
local elapsed = tonumber(ARGV[3])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * (length - elapsed) + (current + 1) * length > limit * length then
  return {0, previous, current}
end
current = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return {1, previous, current}
"""


def window_key(key: str, window_seconds: int, window_start: int) -> str:
    return f"{KEY_PREFIX}{key}:{window_seconds}:{window_start}"


class RedisRateLimiter:
    def __init__(self, url: str) -> None:
        self._redis = redis.Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        self._fallback = InProcessRateLimiter()
        self._down = False
        # register_script runs EVALSHA and falls back to loading the script when Redis does not know it.
        self._script = self._redis.register_script(_SCRIPT)

    async def hit(self, key: str, limit: int, window_seconds: int, now: datetime) -> Decision:
        check_arguments(limit, window_seconds)
        window = window_at(now, window_seconds)
        keys = [
            window_key(key, window_seconds, window.start),
            window_key(key, window_seconds, window.start - window_seconds),
        ]
        try:
            allowed, previous, current = await self._script(
                keys=keys, args=[limit, window.length_ms, window.elapsed_ms, _ttl_ms(window)]
            )
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            if not self._down:
                self._down = True
                log.warning("Redis unreachable (%s): rate limits now apply per process until it is back", error)
            return await self._fallback.hit(key, limit, window_seconds, now)
        if self._down:
            self._down = False
            log.warning("Redis reachable again: rate limits are shared by every process again")
        return decide(limit, window, int(previous), int(current), bool(allowed))

    async def aclose(self) -> None:
        await self._redis.aclose()


def _ttl_ms(window: Window) -> int:
    """Until the end of the next window, where this window's count last serves as the previous one."""
    return 2 * window.length_ms - window.elapsed_ms
