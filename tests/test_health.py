"""Liveness and readiness probes need no operator key."""

from __future__ import annotations

import httpx

from creditflow import __version__
from creditflow.app import create_app
from creditflow.config import Settings


def _anonymous(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test")


async def test_live_answers_ok_without_a_key(app):
    async with _anonymous(app) as http:
        response = await http.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database_without_a_key(app, engine):
    async with _anonymous(app) as http:
        response = await http.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == engine.dialect.name


async def test_ready_reports_the_migration_head_and_the_job_runner_without_failing(app):
    async with _anonymous(app) as http:
        before = (await http.get("/health/ready")).json()
        await app.state.jobs.run_once()
        after = await http.get("/health/ready")
    assert before["jobs"] == {"enabled": False, "last_pass": None}
    assert after.status_code == 200
    migration = after.json()["migration"]
    assert migration["up_to_date"] is True and migration["database"] == migration["code"] is not None
    last_pass = after.json()["jobs"]["last_pass"]
    assert last_pass["ok"] is True and last_pass["started_at"] == app.state.clock.now().isoformat()


async def test_ready_stays_ready_on_a_database_not_migrated_yet(tmp_path):
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}", jobs_enabled=False))
    try:
        async with _anonymous(app) as http:
            response = await http.get("/health/ready")
    finally:
        await app.state.engine.dispose()
    assert response.status_code == 200
    assert response.json()["migration"]["database"] is None
    assert response.json()["migration"]["up_to_date"] is False


async def test_ready_is_503_when_the_database_cannot_be_reached(tmp_path):
    missing = tmp_path / "no-such-dir" / "creditflow.db"
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{missing}", jobs_enabled=False))
    try:
        async with _anonymous(app) as http:
            response = await http.get("/health/ready")
            live = await http.get("/health/live")
    finally:
        await app.state.engine.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert live.status_code == 200


async def test_the_base_url_names_the_service_and_links_the_docs_without_a_key(app):
    async with _anonymous(app) as http:
        response = await http.get("/")
        docs = await http.get(response.json()["links"]["docs"])
        ready = await http.get(response.json()["links"]["ready"])
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "creditflow"
    assert body["version"] == __version__
    assert docs.status_code == 200 and ready.status_code == 200
