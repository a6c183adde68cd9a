"""Sliding-window-counter rate limiting (the approximation Cloudflare uses).

Time is cut into fixed windows of `window_seconds`, aligned on the Unix epoch. A hit at `elapsed` into the
current window sees the estimate

    previous_count * (window - elapsed) / window + current_count

and is allowed when the estimate plus this hit stays within the limit. Denied hits are not counted, so a
client that waits `retry_after` seconds is let through. All arithmetic is on integer milliseconds, exact in
Python and in Redis's Lua, so both implementations decide identically. Time always comes from the `now`
argument (creditflow's one clock), never from the system or from Redis.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Protocol

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    remaining: int
    retry_after: int  # whole seconds; 0 when allowed, >= 1 when not


class RateLimiter(Protocol):
    async def hit(self, key: str, limit: int, window_seconds: int, now: datetime) -> Decision: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Window:
    start: int  # epoch seconds, a multiple of the window length
    elapsed_ms: int  # 0 <= elapsed_ms < length_ms
    length_ms: int


def window_at(now: datetime, window_seconds: int) -> Window:
    """The fixed window `now` falls in (a naive `now` is taken as UTC)."""
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    now_ms = (now - _EPOCH) // _MS
    length_ms = window_seconds * 1000
    start_ms = now_ms - now_ms % length_ms
    return Window(start=start_ms // 1000, elapsed_ms=now_ms - start_ms, length_ms=length_ms)


def check_arguments(limit: int, window_seconds: int) -> None:
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if window_seconds < 1:
        raise ValueError(f"window_seconds must be at least 1, got {window_seconds}")


def admits(limit: int, window: Window, previous: int, current: int) -> bool:
    """Whether one more hit fits: previous * (W - e) / W + current + 1 <= limit, multiplied through by W."""
    weight = window.length_ms - window.elapsed_ms
    return previous * weight + (current + 1) * window.length_ms <= limit * window.length_ms


def decide(limit: int, window: Window, previous: int, current: int, allowed: bool) -> Decision:
    """The decision for counts `previous` and `current` (the latter including this hit when allowed)."""
    length, elapsed = window.length_ms, window.elapsed_ms
    if allowed:
        remaining = (limit * length - previous * (length - elapsed) - current * length) // length
        return Decision(allowed=True, remaining=max(remaining, 0), retry_after=0)
    if current >= limit:
        # Nothing fits before the next window; there, `current` becomes the previous count and must decay
        # until current * (W - e') <= (limit - 1) * W.
        wait_ms = (length - elapsed) + _ceil_div(length * (current - limit + 1), current)
    else:
        # The previous window's share decays: previous * (W - e') <= (limit - current - 1) * W.
        target = length - ((limit - current - 1) * length) // previous
        wait_ms = target - elapsed
    return Decision(allowed=False, remaining=0, retry_after=max(_ceil_div(wait_ms, 1000), 1))


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(slots=True)
class _Counts:
    window_seconds: int
    start: int
    previous: int
    current: int


class InProcessRateLimiter:
    """Sliding-window counter in this process's memory.

    Each (key, window length) keeps two counters. Entries are kept in least-recently-hit order and dropped
    once their counts can no longer matter (two windows later), so memory is bounded by the keys hit in the
    last two windows. `hit` never awaits while holding state, and a lock guards it against threads too.
    """

    def __init__(self) -> None:
        self._counts: OrderedDict[tuple[str, int], _Counts] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._counts)

    async def hit(self, key: str, limit: int, window_seconds: int, now: datetime) -> Decision:
        check_arguments(limit, window_seconds)
        window = window_at(now, window_seconds)
        with self._lock:
            self._evict(now)
            counts = self._counts.get((key, window_seconds))
            if counts is None:
                counts = _Counts(window_seconds, window.start, 0, 0)
                self._counts[(key, window_seconds)] = counts
            else:
                self._counts.move_to_end((key, window_seconds))
            if window.start == counts.start + window_seconds:
                counts.start, counts.previous, counts.current = window.start, counts.current, 0
            elif window.start > counts.start:
                counts.start, counts.previous, counts.current = window.start, 0, 0
            elif window.start < counts.start:  # the clock went back: stay in the newest window seen
                window = Window(start=counts.start, elapsed_ms=0, length_ms=window.length_ms)
            allowed = admits(limit, window, counts.previous, counts.current)
            if allowed:
                counts.current += 1
            return decide(limit, window, counts.previous, counts.current, allowed)

    def _evict(self, now: datetime) -> None:
        while self._counts:
            counts = next(iter(self._counts.values()))
            if window_at(now, counts.window_seconds).start < counts.start + 2 * counts.window_seconds:
                return
            self._counts.popitem(last=False)

    async def aclose(self) -> None:
        return None


def create_rate_limiter(redis_url: str | None) -> RateLimiter:
    """Redis-backed (shared by every process) when a URL is given, otherwise in-process."""
    if redis_url:
        from creditflow.ratelimit.redis_limiter import RedisRateLimiter

        return RedisRateLimiter(redis_url)
    return InProcessRateLimiter()
