"""`serve --workers 2`: both workers write their metrics to one directory, and any worker's /metrics sums them."""

from __future__ import annotations

import shutil
import time

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.test_cli import START_TIMEOUT, cli_env, free_port, run_cli, running


def _live_answers(text: str) -> float:
    return sum(
        s.value for family in text_string_to_metric_families(text) for s in family.samples
        if s.name == "creditflow_http_requests_total" and s.labels.get("route") == "/health/live"
    )


def test_metrics_of_two_workers_are_summed(tmp_path, sqlite_template):
    database = tmp_path / "creditflow.db"
    shutil.copyfile(sqlite_template, database)
    env = cli_env(database_url=f"sqlite+aiosqlite:///{database}", jobs_enabled="false")
    token = run_cli("keys", "create", "--name", "scraper", cwd=tmp_path, env=env).stdout.strip().splitlines()[-1]
    port = free_port()
    with running(["serve", "--port", str(port), "--workers", "2"], tmp_path, env) as (process, _, err):
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 2 * START_TIMEOUT
        answered = 0
        while answered < 40:
            assert process.poll() is None and time.monotonic() < deadline, err.read_text()
            try:
                # A new connection each time, so the kernel spreads them over both workers.
                answered += httpx.get(f"{base}/health/live", timeout=2).status_code == 200
            except httpx.TransportError:
                time.sleep(0.1)
        scrapes = [httpx.get(f"{base}/metrics", headers={"Authorization": f"Bearer {token}"}).text for _ in range(4)]
    assert all(_live_answers(text) == 40 for text in scrapes)
