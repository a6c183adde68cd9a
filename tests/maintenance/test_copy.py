"""`creditflow copy --to postgresql+asyncpg://...`: a SQLite installation moved to an empty PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy import select

from creditflow.app import create_app
from creditflow.clock import ManualClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tables import metadata
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from tests.conftest import PG_ADMIN_DSN, _asyncpg_dsn, _postgres_available
from tests.maintenance.populate import exercise_features

CLI = str(Path(sys.executable).with_name("creditflow"))


async def _populate(url: str) -> None:
    clock = ManualClock()
    app = create_app(Settings(database_url=url, jobs_enabled=False), clock=clock)
    async with app.state.engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=clock.now(), actor="test"), "test")
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as client:
            await exercise_features(client, app, clock)
    finally:
        await app.state.debit_committer.stop()
        await app.state.engine.dispose()


async def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(Settings(database_url=url), pooled=False)
    try:
        async with engine.connect() as conn:
            return {
                t.name: sorted(tuple(map(repr, row)) for row in await conn.execute(select(t)))
                for t in metadata.sorted_tables
            }
    finally:
        await engine.dispose()


@pytest.fixture
def empty_postgres() -> str:
    reason = asyncio.run(_postgres_available())
    if reason is not None:
        pytest.fail(reason)
    name = f"creditflow_copy_{uuid.uuid4().hex[:8]}"

    async def admin(statement: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(statement)
        await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    yield _asyncpg_dsn(name).replace("postgresql://", "postgresql+asyncpg://", 1)
    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _copy(tmp_path: Path, source: str, target: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
    env["CREDITFLOW_DATABASE_URL"] = source
    return subprocess.run([CLI, "copy", "--to", target], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)


def test_copy_moves_every_row_verifies_it_and_refuses_a_non_empty_target(tmp_path, sqlite_template, empty_postgres):
    database = tmp_path / "creditflow.db"
    shutil.copyfile(sqlite_template, database)
    source = f"sqlite+aiosqlite:///{database}"
    asyncio.run(_populate(source))

    copied = _copy(tmp_path, source, empty_postgres)
    assert copied.returncode == 0, copied.stderr
    assert "creditflow check is clean on both databases" in copied.stdout

    before, after = asyncio.run(_rows(source)), asyncio.run(_rows(empty_postgres))
    filled = {name for name, rows in before.items() if rows}
    assert {"customers", "credit_grants", "operations", "transfers", "holds", "hold_allocations", "events",
            "webhook_deliveries", "webhook_attempts", "budgets", "customer_api_keys"} <= filled
    assert before == after

    again = _copy(tmp_path, source, empty_postgres)
    assert again.returncode == 1
    assert "the target database is not empty" in again.stderr
