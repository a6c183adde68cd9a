"""`creditflow backup` / `restore`: a consistent SQLite copy taken under load; pg_dump's command on PostgreSQL."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from contextlib import closing

import pytest

from creditflow.maintenance.backup import (
    BackupError,
    backup_sqlite,
    pg_dump_command,
    pg_restore_command,
    restore_sqlite,
    sqlite_path,
)
from tests.factories import debit, grant, make_customer
from tests.test_cli import cli_env, run_cli


def _scalar(path, query: str):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(query).fetchone()[0]


def _mark(path, version: int) -> None:
    """A change the backup must carry (or not): SQLite's user_version header field."""
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {version}")


@pytest.fixture
def settings(tmp_path, sqlite_template):
    """SQLite only: the backup API is SQLite's."""
    from creditflow.config import Settings

    path = tmp_path / "live.db"
    shutil.copyfile(sqlite_template, path)
    return Settings(database_url=f"sqlite+aiosqlite:///{path}", jobs_enabled=False)


async def test_a_backup_taken_while_debits_commit_is_consistent(client, settings, tmp_path):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "1000.00")
    target = tmp_path / "copy.db"

    async def spend() -> None:
        for _ in range(40):
            assert (await debit(client, customer, "0.01")).status_code == 201

    await asyncio.gather(spend(), asyncio.to_thread(backup_sqlite, sqlite_path(settings.database_url), target))
    assert _scalar(target, "PRAGMA integrity_check") == "ok"
    # The copy is one snapshot: its cached balance equals the sum of its own transfers.
    debited = _scalar(target, "SELECT COALESCE(SUM(amount), 0) FROM operations WHERE kind = 'debit'")
    posted = _scalar(target, "SELECT posted FROM wallets")
    assert posted == 1000 * 10**6 - debited
    result = run_cli("check", cwd=tmp_path, env=cli_env(database_url=f"sqlite+aiosqlite:///{target}"))
    assert result.returncode == 0, result.stderr


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(tmp_path, sqlite_template):
    target = tmp_path / "b.db"
    target.write_bytes(b"")
    with pytest.raises(BackupError, match="already exists"):
        backup_sqlite(sqlite_template, target)
    stranger = tmp_path / "other.db"
    with closing(sqlite3.connect(stranger)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a creditflow database"):
        restore_sqlite(stranger, tmp_path / "live.db")


def test_backup_then_restore_through_the_cli(tmp_path, sqlite_template):
    live = tmp_path / "creditflow.db"
    shutil.copyfile(sqlite_template, live)
    env = cli_env(database_url=f"sqlite+aiosqlite:///{live}")
    _mark(live, 7)
    made = run_cli("backup", str(tmp_path / "b.db"), cwd=tmp_path, env=env)
    assert made.returncode == 0 and "integrity ok" in made.stdout
    _mark(live, 9)
    refused = run_cli("restore", str(tmp_path / "b.db"), cwd=tmp_path, env=env)
    assert refused.returncode == 1 and "--force" in refused.stderr
    restored = run_cli("restore", str(tmp_path / "b.db"), "--force", cwd=tmp_path, env=env)
    assert restored.returncode == 0, restored.stderr
    assert _scalar(live, "PRAGMA user_version") == 7


def test_on_postgresql_backup_prints_the_exact_pg_dump_command(tmp_path):
    url = "postgresql+asyncpg://billing:s3cret@db.internal:5433/creditflow"
    result = run_cli("backup", "nightly.dump", cwd=tmp_path, env=cli_env(database_url=url))
    assert result.returncode == 2
    expected = "pg_dump --format=custom --file=nightly.dump postgresql://billing@db.internal:5433/creditflow"
    assert result.stdout.splitlines()[-1] == expected == pg_dump_command(url, "nightly.dump")
    assert "s3cret" not in result.stdout
    assert pg_restore_command(url, "nightly.dump") == (
        "pg_restore --clean --if-exists --no-owner --dbname=postgresql://billing@db.internal:5433/creditflow "
        "nightly.dump"
    )
