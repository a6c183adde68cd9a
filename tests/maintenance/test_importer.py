"""`creditflow import customers FILE.csv`: all or nothing, bad lines by number, idempotent on external_id."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3

from creditflow.clock import SystemClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tx import Tx
from creditflow.ledger.check import find_discrepancies
from tests.test_cli import cli_env, run_cli

GOOD = (
    "external_id,name,email,currency,opening_balance\n"
    "acme,Acme,ap@acme.test,USD,12.50\nbeta,,,,\ngamma,,,EUR,0.000001\n"
)


def _setup(tmp_path, sqlite_template, text: str) -> tuple[dict[str, str], str]:
    live = tmp_path / "creditflow.db"
    shutil.copyfile(sqlite_template, live)
    (tmp_path / "c.csv").write_text(text)
    return cli_env(database_url=f"sqlite+aiosqlite:///{live}"), str(tmp_path / "c.csv")


def _count(env, tmp_path) -> tuple[int, int, int]:
    path = env["CREDITFLOW_DATABASE_URL"].removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as conn:
        return conn.execute(
            "SELECT (SELECT COUNT(*) FROM customers), (SELECT COUNT(*) FROM credit_grants), "
            "(SELECT COALESCE(SUM(amount), 0) FROM credit_grants)"
        ).fetchone()


def test_import_creates_customers_with_opening_grants_once(tmp_path, sqlite_template):
    env, csv = _setup(tmp_path, sqlite_template, GOOD)
    first = run_cli("import", "customers", csv, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    assert "created 3 customer(s) (2 with an opening balance); skipped 0" in first.stdout
    again = run_cli("import", "customers", csv, cwd=tmp_path, env=env)
    assert "created 0 customer(s) (0 with an opening balance); skipped 3 already imported" in again.stdout
    assert _count(env, tmp_path) == (3, 2, 12_500_001)
    assert asyncio.run(_discrepancies(env["CREDITFLOW_DATABASE_URL"])) == []


async def _discrepancies(url: str) -> list[str]:
    engine = create_engine(Settings(database_url=url), pooled=False)
    try:
        async with engine.begin() as conn:
            return await find_discrepancies(Tx(conn=conn, now=SystemClock().now(), actor="test"))
    finally:
        await engine.dispose()


def test_bad_lines_are_reported_by_number_and_nothing_is_imported(tmp_path, sqlite_template):
    text = GOOD + ",no id,,,1\ndelta,,,USD,1.0000001\nacme,again,,,1\neps,,not-an-email,,1\nzeta,,,usd,-5\n"
    env, csv = _setup(tmp_path, sqlite_template, text)
    result = run_cli("import", "customers", csv, cwd=tmp_path, env=env)
    assert result.returncode == 1
    lines = [line.split(": ", 1)[1] for line in result.stderr.splitlines() if line.startswith(csv)]
    assert [line.split(":")[0] for line in lines] == ["line 5", "line 6", "line 7", "line 8", "line 9"]
    assert "appears twice" in lines[2] and "negative" in lines[4]
    assert "nothing imported: 5 bad line(s)" in result.stderr
    assert _count(env, tmp_path) == (0, 0, 0)


def test_an_unknown_column_is_refused_before_any_row(tmp_path, sqlite_template):
    env, csv = _setup(tmp_path, sqlite_template, "external_id,balance\na,1\n")
    result = run_cli("import", "customers", csv, cwd=tmp_path, env=env)
    assert result.returncode == 1 and "line 1: unknown column(s) balance" in result.stderr
