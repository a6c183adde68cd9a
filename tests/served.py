"""A real `creditflow serve` process for the client libraries and examples, which talk to it over HTTP."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from tests.conftest import PG_ADMIN_DSN
from tests.test_cli import cli_env, secrets_in, serving

# SQLite unless CREDITFLOW_CLIENT_TESTS_ENGINE=postgres: the clients only see HTTP, so one engine is enough
# for their behaviour; the server's own tests cover both engines.
ENGINE = os.environ.get("CREDITFLOW_CLIENT_TESTS_ENGINE", "sqlite")
# LiteLLM reads its model prices from the copy it ships with, never from the network, in every test.
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"


@dataclass(frozen=True, slots=True)
class Served:
    base_url: str
    operator_key: str
    database_url: str


@contextmanager
def _database(workdir: Path) -> Iterator[str]:
    if ENGINE != "postgres":
        yield f"sqlite+aiosqlite:///{workdir / 'creditflow.db'}"
        return
    name = f"creditflow_clients_{uuid.uuid4().hex[:8]}"

    async def execute(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN_DSN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(execute(f'CREATE DATABASE "{name}"'))
    try:
        base, _, _ = PG_ADMIN_DSN.rpartition("/")
        yield f"{base}/{name}".replace("postgresql://", "postgresql+asyncpg://", 1)
    finally:
        asyncio.run(execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def creditflow_server(workdir: Path) -> Iterator[Served]:
    """`creditflow serve` on a free port and a new database, as a user starts it; its first operator key."""
    # The job runner every second: examples wait for renewals and sandbox notifications it carries out.
    # Portal accounts and the sandbox on the portal: the clients' customer-side calls sign up and top up.
    env = cli_env(database_url="", expiry_sweep_interval_seconds="1", portal_signup="true",
                  portal_allow_sandbox="true")
    with _database(workdir) as database_url, serving(workdir, {**env, "CREDITFLOW_DATABASE_URL": database_url}) as (
        base, out, _,
    ):
        [key] = secrets_in(out.read_text())
        yield Served(base, key, database_url)


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for a whole test session (per conftest that imports this fixture); tests make their own customers."""
    with creditflow_server(tmp_path_factory.mktemp("served")) as server:
        yield server
