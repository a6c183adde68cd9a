"""Test fixtures: real databases built by the migrations, on SQLite and PostgreSQL.

Every test that takes `engine`, `app` or `client` runs once per engine. SQLite tests get a fresh
file copied from a migrated template; PostgreSQL tests share one migrated database per run, emptied
between tests. PostgreSQL tests skip with a reason when no server answers, unless
CREDITFLOW_REQUIRE_POSTGRES=1 (as in CI), where they fail instead.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.app import create_app
from creditflow.clock import ManualClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.migrate import upgrade
from creditflow.db.tables import metadata
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key

PG_ADMIN_DSN = os.environ.get("CREDITFLOW_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")
REQUIRE_POSTGRES = os.environ.get("CREDITFLOW_REQUIRE_POSTGRES") == "1"


def _asyncpg_dsn(database: str) -> str:
    base, _, _ = PG_ADMIN_DSN.rpartition("/")
    return f"{base}/{database}"


def _sqlalchemy_url(database: str) -> str:
    return _asyncpg_dsn(database).replace("postgresql://", "postgresql+asyncpg://", 1)


async def _postgres_available() -> str | None:
    try:
        conn = await asyncpg.connect(PG_ADMIN_DSN, timeout=3)
    except (OSError, asyncpg.PostgresError) as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_DSN}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"

    async def build() -> None:
        engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{path}"), pooled=False)
        await upgrade(engine)
        await engine.dispose()

    asyncio.run(build())
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    reason = asyncio.run(_postgres_available())
    if reason is not None:
        if REQUIRE_POSTGRES:
            pytest.fail(f"CREDITFLOW_REQUIRE_POSTGRES=1 but {reason}")
        pytest.skip(reason)
    name = f"creditflow_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'CREATE DATABASE "{name}"')
        await conn.close()
        engine = create_engine(Settings(database_url=_sqlalchemy_url(name)), pooled=False)
        await upgrade(engine)
        await engine.dispose()

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()

    asyncio.run(create())
    yield _sqlalchemy_url(name)
    asyncio.run(drop())


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "creditflow.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    asyncio.run(_truncate(url))
    return url


# Emptying every table by DELETE in one round trip is several times faster than TRUNCATE for the few rows a test
# writes (TRUNCATE makes new files for each of ~60 tables and their indexes). Replica mode skips the foreign
# keys and the transfers' append-only trigger for this one transaction.
_EMPTY_EVERY_TABLE = "BEGIN; SET LOCAL session_replication_role = replica; {deletes} COMMIT;"


async def _truncate(url: str) -> None:
    deletes = " ".join(f'DELETE FROM "{table.name}";' for table in metadata.sorted_tables)
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute(_EMPTY_EVERY_TABLE.format(deletes=deletes))
    finally:
        await conn.close()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jobs_enabled=False)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(settings)
    yield engine
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings, clock: ManualClock):
    application = create_app(settings, clock=clock)
    yield application
    await application.state.debit_committer.stop()
    await application.state.engine.dispose()


@pytest.fixture
async def operator_key(app) -> str:
    async with app.state.engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "test")
    return secret


@pytest.fixture
async def client(app, operator_key: str) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://creditflow.test", headers={"Authorization": f"Bearer {operator_key}"}
    ) as http:
        yield http
