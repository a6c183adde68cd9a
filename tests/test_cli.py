"""The `creditflow` console script, run as a user runs it: a real subprocess with its own environment."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from creditflow.app import create_app
from creditflow.clock import ManualClock, SystemClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tables import credit_grants, operations
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from tests.factories import debit, grant, make_customer

CLI = str(Path(sys.executable).with_name("creditflow"))
SECRET_LINE = re.compile(r"^cf_sk_\S+$")
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
# A clean stop exits 0, or (after shutting down, as uvicorn does) re-raises the stop signal itself.
STOPPED_BY = {signal.SIGINT: {0, -signal.SIGINT}, signal.SIGTERM: {0, -signal.SIGTERM}}


def cli_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any CREDITFLOW_* setting, plus the given ones."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CREDITFLOW_")}
    env.update({f"CREDITFLOW_{name.upper()}": value for name, value in settings.items()})
    return env


def run_cli(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CLI, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def secrets_in(output: str) -> list[str]:
    return [line for line in output.splitlines() if SECRET_LINE.match(line)]


@contextmanager
def running(args: list[str], cwd: Path, env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[bytes], Path, Path]]:
    """A long-running command with stdout/stderr in files; always stopped (SIGTERM, then SIGKILL) at the end."""
    out, err = cwd / f"{args[0]}.{time.monotonic_ns()}.out", cwd / f"{args[0]}.{time.monotonic_ns()}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([CLI, *args], cwd=cwd, env=env, stdout=stdout, stderr=stderr)
        try:
            yield process, out, err
        finally:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


@contextmanager
def serving(cwd: Path, env: dict[str, str]) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    """`creditflow serve` on a free port, once /health/live answers: its base URL, stdout file and process."""
    port = free_port()
    with running(["serve", "--port", str(port)], cwd, env) as (process, out, err):
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            assert process.poll() is None, f"serve exited {process.returncode}: {err.read_text()}"
            try:
                if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"serve did not come up: {err.read_text()}"
            time.sleep(0.1)
        yield base, out, process


def wait_for(condition, what: str, process: subprocess.Popen[bytes], err: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while not condition():
        assert process.poll() is None, f"exited {process.returncode} before {what}: {err.read_text()}"
        assert time.monotonic() < deadline, f"no {what} within {START_TIMEOUT}s: {err.read_text()}"
        time.sleep(0.1)


def status_with_key(database_url: str, secret: str) -> int:
    """What an API request with this operator key gets, from the app in-process on the same database."""

    async def call() -> int:
        app = create_app(Settings(database_url=database_url, jobs_enabled=False))
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
                headers={"Authorization": f"Bearer {secret}"},
            ) as client:
                return (await client.get("/v1/customers")).status_code
        finally:
            await app.state.engine.dispose()

    return asyncio.run(call())


async def seed_ledger(database_url: str, clock: ManualClock | None = None, **grant_fields: str) -> dict[str, str]:
    """A customer with a grant and a debit, made through the API; returns their ids."""
    app = create_app(Settings(database_url=database_url, jobs_enabled=False), clock=clock or SystemClock())
    try:
        async with app.state.engine.begin() as conn:
            _, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "seed")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
            headers={"Authorization": f"Bearer {secret}"},
        ) as client:
            customer = await make_customer(client)
            lot = await grant(client, customer["id"], "10.00", **grant_fields)
            assert (await debit(client, customer["id"], "2.50")).status_code == 201
    finally:
        await app.state.engine.dispose()
    return {"customer": customer["id"], "grant": lot["id"], "wallet": lot["wallet"]}


async def execute(database_url: str, statement: str) -> None:
    engine = create_engine(Settings(database_url=database_url), pooled=False)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


def test_migrate_creates_the_schema_in_a_fresh_sqlite_file(tmp_path):
    path = tmp_path / "fresh.db"

    result = run_cli("migrate", cwd=tmp_path, env=cli_env(database_url=f"sqlite+aiosqlite:///{path}"))

    assert result.returncode == 0, result.stderr
    with sqlite3.connect(path) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert db.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
    assert {"customers", "wallets", "accounts", "transfers", "holds", "operator_keys"} <= tables


def test_keys_create_prints_a_working_secret_alone_on_the_last_line(tmp_path, database_url):
    result = run_cli("keys", "create", "--name", "x", cwd=tmp_path, env=cli_env(database_url=database_url))

    assert result.returncode == 0, result.stderr
    secret = result.stdout.splitlines()[-1]
    assert SECRET_LINE.match(secret)
    assert status_with_key(database_url, secret) == 200


def test_keys_list_shows_each_key_without_its_secret(tmp_path, database_url):
    env = cli_env(database_url=database_url)
    created = run_cli("keys", "create", "--name", "billing-bot", cwd=tmp_path, env=env)
    secret = created.stdout.splitlines()[-1]

    result = run_cli("keys", "list", cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert "billing-bot" in result.stdout
    assert "active" in result.stdout
    assert secret not in result.stdout + result.stderr


def test_keys_revoke_makes_the_key_unauthenticated(tmp_path, database_url):
    env = cli_env(database_url=database_url)
    created = run_cli("keys", "create", "--name", "x", cwd=tmp_path, env=env)
    secret = created.stdout.splitlines()[-1]
    key_id = re.search(r"\bkey_\w+", created.stdout).group(0)
    assert status_with_key(database_url, secret) == 200

    result = run_cli("keys", "revoke", key_id, cwd=tmp_path, env=env)

    assert result.returncode == 0, result.stderr
    assert status_with_key(database_url, secret) == 401
    assert "revoked" in run_cli("keys", "list", cwd=tmp_path, env=env).stdout


def test_serve_in_an_empty_directory_creates_the_database_prints_one_key_and_serves(tmp_path):
    with serving(tmp_path, cli_env()) as (base, out, _):
        keys = secrets_in(out.read_text())
        assert len(keys) == 1
        assert (tmp_path / "creditflow.db").is_file()
        ready = httpx.get(f"{base}/health/ready").json()
        assert (ready["status"], ready["database"], ready["migration"]["up_to_date"]) == ("ok", "sqlite", True)
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        created = httpx.post(
            f"{base}/v1/customers", json={"external_id": "first"}, headers={"Authorization": f"Bearer {keys[0]}"}
        )
        assert created.status_code == 201, created.text


def test_serve_again_on_the_same_database_prints_no_new_key(tmp_path):
    env = cli_env()
    with serving(tmp_path, env) as (_, out, _):
        [first_key] = secrets_in(out.read_text())

    with serving(tmp_path, env) as (base, out, _):
        assert secrets_in(out.read_text()) == []
        listed = httpx.get(f"{base}/v1/customers", headers={"Authorization": f"Bearer {first_key}"})
        assert listed.status_code == 200, listed.text


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_serve_on_postgresql_prints_one_key_and_serves(tmp_path, database_url):
    with serving(tmp_path, cli_env(database_url=database_url)) as (base, out, _):
        keys = secrets_in(out.read_text())
        assert len(keys) == 1
        assert not (tmp_path / "creditflow.db").exists()
        ready = httpx.get(f"{base}/health/ready").json()
        assert (ready["status"], ready["database"], ready["migration"]["up_to_date"]) == ("ok", "postgresql", True)
        created = httpx.post(
            f"{base}/v1/customers", json={"external_id": "first"}, headers={"Authorization": f"Bearer {keys[0]}"}
        )
        assert created.status_code == 201, created.text


def test_serve_shuts_down_gracefully_on_sigterm(tmp_path):
    with serving(tmp_path, cli_env()) as (_, _, process):
        process.send_signal(signal.SIGTERM)

        assert process.wait(timeout=STOP_TIMEOUT) in STOPPED_BY[signal.SIGTERM]
    err = next(tmp_path.glob("serve.*.err")).read_text()
    assert "Application shutdown complete" in err
    assert "Traceback" not in err


def test_check_exits_zero_on_a_consistent_ledger(tmp_path, database_url):
    asyncio.run(seed_ledger(database_url))

    result = run_cli("check", cwd=tmp_path, env=cli_env(database_url=database_url))

    assert result.returncode == 0, result.stderr
    assert "DISCREPANCY" not in result.stdout + result.stderr


def test_check_exits_non_zero_naming_a_corrupted_account(tmp_path, database_url):
    seeded = asyncio.run(seed_ledger(database_url))
    asyncio.run(execute(database_url, f"UPDATE accounts SET posted = posted + 1 WHERE id = '{seeded['grant']}'"))

    result = run_cli("check", cwd=tmp_path, env=cli_env(database_url=database_url))

    assert result.returncode == 1
    assert seeded["grant"] in result.stderr


async def seed_expired_lot(database_url: str) -> dict[str, str]:
    """A wallet whose lot expired an hour ago (granted in the past), not yet swept."""
    now = datetime.now(UTC)
    past = ManualClock(now - timedelta(hours=2))
    return await seed_ledger(database_url, past, expires_at=(now - timedelta(hours=1)).isoformat())


def test_worker_sweeps_expired_lots_of_idle_wallets(tmp_path, database_url):
    seeded = asyncio.run(seed_expired_lot(database_url))

    async def expiry_operations() -> int:
        engine = create_engine(Settings(database_url=database_url), pooled=False)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(operations.c.id).where(
                        operations.c.wallet_id == seeded["wallet"], operations.c.actor == "system:expiry"
                    )
                )
                return len(rows.all())
        finally:
            await engine.dispose()

    assert asyncio.run(expiry_operations()) == 0
    env = cli_env(database_url=database_url, expiry_sweep_interval_seconds="0.2")
    with running(["worker"], tmp_path, env) as (process, _, err):
        # The worker logs a pass once it has committed it.
        wait_for(lambda: "expiry sweep: 1 wallet(s)" in err.read_text(), "expiry sweep", process, err)
        assert asyncio.run(expiry_operations()) == 1
    assert asyncio.run(grant_status(database_url, seeded["grant"])) == "expired"


async def grant_status(database_url: str, grant_id: str) -> str:
    engine = create_engine(Settings(database_url=database_url), pooled=False)
    try:
        async with engine.connect() as conn:
            query = select(credit_grants.c.status).where(credit_grants.c.id == grant_id)
            return (await conn.execute(query)).scalar_one()
    finally:
        await engine.dispose()


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_worker_stops_cleanly_on_a_stop_signal(tmp_path, database_url, stop):
    asyncio.run(seed_expired_lot(database_url))
    env = cli_env(database_url=database_url, expiry_sweep_interval_seconds="0.2")
    with running(["worker"], tmp_path, env) as (process, _, err):
        wait_for(lambda: "expiry sweep:" in err.read_text(), "first sweep", process, err)

        process.send_signal(stop)

        assert process.wait(timeout=STOP_TIMEOUT) in STOPPED_BY[stop], err.read_text()
    assert "Traceback" not in err.read_text()


def _users(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`creditflow users ...` with no terminal on stdin: passwords are generated and printed."""
    return subprocess.run([CLI, "users", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)


def _signs_in(database_url: str, email: str, password: str) -> bool:
    from creditflow.console.service import authenticate

    async def check() -> bool:
        engine = create_engine(Settings(database_url=database_url), pooled=False)
        try:
            async with engine.begin() as conn:
                return await authenticate(Tx(conn=conn, now=SystemClock().now(), actor="test"), email, password) \
                    is not None
        finally:
            await engine.dispose()

    return asyncio.run(check())


def test_users_create_list_reset_and_disable(tmp_path, sqlite_template):
    # The commands only call the service (tested on both engines in tests/console): one engine is enough here.
    database = tmp_path / "users.db"
    shutil.copyfile(sqlite_template, database)
    database_url = f"sqlite+aiosqlite:///{database}"
    env = cli_env(database_url=database_url)
    created = _users("create", "--email", "ops@example.com", "--role", "owner", cwd=tmp_path, env=env)
    assert created.returncode == 0, created.stderr
    user_id = re.search(r"\busr_\w+", created.stdout).group(0)
    password = created.stdout.splitlines()[-1]
    assert _signs_in(database_url, "ops@example.com", password)
    reset = _users("reset-password", user_id, cwd=tmp_path, env=env)
    assert reset.returncode == 0, reset.stderr
    new_password = reset.stdout.splitlines()[-1]
    assert not _signs_in(database_url, "ops@example.com", password)
    assert _signs_in(database_url, "ops@example.com", new_password)
    assert _users("disable", user_id, cwd=tmp_path, env=env).returncode == 0
    assert not _signs_in(database_url, "ops@example.com", new_password)
    listed = _users("list", cwd=tmp_path, env=env).stdout
    assert f"{user_id}\tops@example.com\towner\tdisabled" in listed and new_password not in listed
