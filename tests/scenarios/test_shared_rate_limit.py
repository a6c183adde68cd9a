"""Two real `creditflow serve` processes share one customer key's rate limit through the real Redis.

Each process alone would allow the whole limit (the in-process limiter); sharing through Redis means the
total allowed across both is exactly the limit. The servers run on the real clock, so the limit is per
minute and the burst starts well inside a minute: the window does not roll during the test.
"""

from __future__ import annotations

import asyncio
import os
import time
from datetime import UTC, datetime

import httpx
import pytest
import redis

from creditflow.ratelimit.redis_limiter import KEY_PREFIX
from tests.test_cli import cli_env, secrets_in, serving

REDIS_URL = "redis://127.0.0.1:6379/14"
REQUIRE_REDIS = os.environ.get("CREDITFLOW_REQUIRE_REDIS") == "1"
LIMIT = 20


@pytest.fixture
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_URL}: {exc}"
        if REQUIRE_REDIS:
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        client.close()
    return REDIS_URL


def _clear(key_id: str) -> None:
    with redis.Redis.from_url(REDIS_URL) as client:
        stale = list(client.scan_iter(match=f"{KEY_PREFIX}api_key:{key_id}:*"))
        if stale:
            client.delete(*stale)


def _away_from_a_minute_boundary() -> None:
    """Start the burst in the first three quarters of a minute, so it all lands in one window."""
    second = datetime.now(UTC).second
    if second >= 45:
        time.sleep(60 - second + 0.5)


async def _burst(bases: list[str], operator_key: str, key: str, count: int) -> list[httpx.Response]:
    async with httpx.AsyncClient(headers={"Authorization": f"Bearer {operator_key}"}, timeout=30) as http:
        return await asyncio.gather(
            *(http.post(f"{bases[i % len(bases)]}/v1/api_keys/verify", json={"key": key}) for i in range(count))
        )


def test_two_servers_share_one_keys_rate_limit(tmp_path, database_url, redis_url):
    env = cli_env(database_url=database_url, redis_url=redis_url, jobs_enabled="false")
    with serving(tmp_path, env) as (first, out, _), serving(tmp_path, env) as (second, _, _):
        [operator_key] = secrets_in(out.read_text())
        auth = {"Authorization": f"Bearer {operator_key}"}
        created = httpx.post(f"{first}/v1/customers", json={"external_id": "shared"}, headers=auth)
        assert created.status_code == 201, created.text
        made = httpx.post(
            f"{second}/v1/customers/shared/api_keys",
            json={"name": "gateway", "rate_limit": {"requests": LIMIT, "per": "minute"}}, headers=auth,
        )
        assert made.status_code == 201, made.text
        key, key_id = made.json()["key"], made.json()["id"]
        try:
            _away_from_a_minute_boundary()

            answers = asyncio.run(_burst([first, second], operator_key, key, 2 * LIMIT))

            statuses = [r.status_code for r in answers]
            assert set(statuses) <= {200, 429}, [r.text for r in answers if r.status_code not in (200, 429)]
            assert statuses.count(200) == LIMIT
            assert all(r.json()["valid"] is True for r in answers if r.status_code == 200)
            refused = [r for r in answers if r.status_code == 429]
            assert all(r.json()["error"]["code"] == "rate_limited" for r in refused)
            assert all(int(r.headers["Retry-After"]) >= 1 for r in refused)
            # Both servers now see the key's limit as spent.
            for base in (first, second):
                again = httpx.post(f"{base}/v1/api_keys/verify", json={"key": key}, headers=auth)
                assert again.status_code == 429, again.text
        finally:
            _clear(key_id)
