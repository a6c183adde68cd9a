"""Benchmark: HTTP debits and hold+capture against a served creditflow, beside a raw-driver baseline.

Starts `creditflow serve` as a user would (SQLite file, then PostgreSQL), drives it with N concurrent
keep-alive clients for a fixed time, and in the same run measures the raw baseline: the same debit
(conditional UPDATE plus INSERT, one transaction each) issued directly through the driver with the
same concurrency. Durability stays on: SQLite synchronous=FULL, PostgreSQL synchronous_commit=on.

    python bench/ledger_bench.py [--seconds 10] [--clients 32] [--workers 3] [--engines sqlite,postgres]

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.loadgen import Connection, Result, drive

PG_ADMIN = os.environ.get("CREDITFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "creditflow_bench"
CREDITFLOW = str(Path(sys.executable).with_name("creditflow"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`creditflow serve` in a subprocess; the first operator key is read from its output."""

    def __init__(self, database_url: str, workers: int, workdir: Path) -> None:
        self.port = free_port()
        env = {**os.environ, "CREDITFLOW_DATABASE_URL": database_url}
        self.process = subprocess.Popen(
            [CREDITFLOW, "serve", "--port", str(self.port), "--workers", str(workers)],
            cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.token = self._read_key()
        self._drain = threading.Thread(target=self._drain_output, daemon=True)
        self._drain.start()

    def _read_key(self) -> str:
        assert self.process.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("creditflow serve exited before printing its key")
            if line.strip().startswith("cf_sk_"):
                return line.strip()
        raise RuntimeError("no operator key printed")

    def _drain_output(self) -> None:
        assert self.process.stdout is not None
        for _ in self.process.stdout:
            pass

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = Connection("127.0.0.1", self.port, self.token)
                await conn.open()
                status, _ = await conn.request("GET", "/health/ready")
                await conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def create_customers(server: Server, count: int) -> list[str]:
    conn = Connection("127.0.0.1", server.port, server.token)
    await conn.open()
    ids = []
    for index in range(count):
        external_id = f"bench-{index}-{uuid.uuid4().hex[:6]}"
        status, body = await conn.request("POST", "/v1/customers", {"external_id": external_id})
        assert status == 201, body
        status, body2 = await conn.request(
            "POST", "/v1/credit_grants", {"customer": body["id"], "amount": "1000000", "category": "paid"}
        )
        assert status == 201, body2
        ids.append(body["id"])
    await conn.close()
    return ids


async def http_phase(server: Server, customers: list[str], seconds: float) -> tuple[Result, Result]:
    async def debit(conn: Connection, index: int) -> int:
        status, _ = await conn.request("POST", "/v1/debits", {"customer": customers[index], "amount": "0.01"})
        return status

    async def hold_and_capture(conn: Connection, index: int) -> int:
        status, hold = await conn.request("POST", "/v1/holds", {"customer": customers[index], "amount": "0.02"})
        if status != 201:
            return status
        status, _ = await conn.request("POST", f"/v1/holds/{hold['id']}/capture", {"amount": "0.015"})
        return status

    debits = await drive("127.0.0.1", server.port, server.token, len(customers), seconds, debit)
    holds = await drive("127.0.0.1", server.port, server.token, len(customers), seconds, hold_and_capture)
    return debits, holds


RAW_SETUP = [
    "DROP TABLE IF EXISTS raw_transfers",
    "DROP TABLE IF EXISTS raw_accounts",
    "CREATE TABLE raw_accounts (id TEXT PRIMARY KEY, posted BIGINT NOT NULL, held BIGINT NOT NULL, "
    "credit_limit BIGINT NOT NULL, CHECK (posted - held >= -credit_limit))",
    "CREATE TABLE raw_transfers (id TEXT PRIMARY KEY, debit_account_id TEXT NOT NULL, "
    "credit_account_id TEXT NOT NULL, amount BIGINT NOT NULL, created_at TEXT NOT NULL)",
]


async def raw_postgres(dsn: str, clients: int, seconds: float) -> Result:
    admin = await asyncpg.connect(dsn)
    for statement in RAW_SETUP:
        await admin.execute(statement)
    await admin.executemany(
        "INSERT INTO raw_accounts VALUES ($1, $2, 0, 0)", [(f"acc{i}", 10**15) for i in range(clients)]
    )
    await admin.close()
    pool = await asyncpg.create_pool(dsn, min_size=clients, max_size=clients)
    result = Result()
    deadline = time.perf_counter() + seconds

    async def loop(index: int) -> None:
        async with pool.acquire() as conn:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                async with conn.transaction():
                    updated = await conn.execute(
                        "UPDATE raw_accounts SET posted = posted - $2 WHERE id = $1 AND posted - held >= $2",
                        f"acc{index}", 10_000,
                    )
                    assert updated == "UPDATE 1"
                    await conn.execute(
                        "INSERT INTO raw_transfers VALUES ($1, $2, 'revenue', $3, $4)",
                        uuid.uuid4().hex, f"acc{index}", 10_000, time.time().__repr__(),
                    )
                result.record(201, time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(loop(i) for i in range(clients)))
    result.elapsed = time.perf_counter() - started
    await pool.close()
    return result


def raw_sqlite(path: Path, clients: int, seconds: float) -> Result:
    setup = sqlite3.connect(path, isolation_level=None)
    for statement in RAW_SETUP:
        setup.execute(statement)
    setup.executemany("INSERT INTO raw_accounts VALUES (?, ?, 0, 0)", [(f"acc{i}", 10**15) for i in range(clients)])
    setup.close()
    result = Result()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def loop(index: int) -> None:
        conn = sqlite3.connect(path, isolation_level=None, timeout=60, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "UPDATE raw_accounts SET posted = posted - ? WHERE id = ? AND posted - held >= ?",
                (10_000, f"acc{index}", 10_000),
            )
            conn.execute(
                "INSERT INTO raw_transfers VALUES (?, ?, 'revenue', ?, ?)",
                (uuid.uuid4().hex, f"acc{index}", 10_000, repr(time.time())),
            )
            conn.execute("COMMIT")
            with lock:
                result.record(201, time.perf_counter() - started)
        conn.close()

    threads = [threading.Thread(target=loop, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - started
    return result


async def reset_postgres() -> str:
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{PG_DB}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{PG_DB}"')
    setting = await admin.fetchval("SHOW synchronous_commit")
    await admin.close()
    return setting


def line(label: str, result: Result, per_iteration: int = 1) -> str:
    s = result.summary()
    errors = {k: v for k, v in result.statuses.items() if k >= 400}
    extra = f"  errors={errors}" if errors else ""
    ops = s["ops_per_s"] * per_iteration
    return f"  {label:<34} {ops:>9.0f} ops/s   p50 {s['p50_ms']:>7.2f} ms   p99 {s['p99_ms']:>7.2f} ms{extra}"


async def bench_engine(engine: str, args: argparse.Namespace, workdir: Path) -> None:
    if engine == "sqlite":
        db_path = workdir / "bench.db"
        url = f"sqlite+aiosqlite:///{db_path}"
        durability = "synchronous=FULL, WAL"
    else:
        durability = f"synchronous_commit={await reset_postgres()}"
        url = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") + f"/{PG_DB}"
    workers = 1 if engine == "sqlite" else args.workers
    print(f"\n{engine} ({durability}; {args.clients} clients, {args.seconds:.0f} s per phase, {workers} worker(s))")
    server = Server(url, workers, workdir)
    try:
        await server.wait_ready()
        customers = await create_customers(server, args.clients)
        debits, holds = await http_phase(server, customers, args.seconds)
    finally:
        server.stop()
    if engine == "sqlite":
        raw = await asyncio.to_thread(raw_sqlite, db_path, args.clients, args.seconds)
    else:
        raw = await raw_postgres(PG_ADMIN.rsplit("/", 1)[0] + f"/{PG_DB}", args.clients, args.seconds)
    print(line("HTTP POST /v1/debits", debits))
    print(line("HTTP hold + capture (iterations)", holds))
    print(line("raw driver debit (UPDATE+INSERT)", raw))
    ratio = debits.summary()["ops_per_s"] / max(raw.summary()["ops_per_s"], 1e-9)
    print(f"  ratio HTTP debits / raw baseline: {ratio:.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=3,
        help="HTTP worker processes on PostgreSQL (3 on 2 cores: workers wait on the database much of the time)",
    )
    parser.add_argument("--engines", default="sqlite,postgres")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="creditflow-bench-"))
    try:
        for engine in args.engines.split(","):
            await bench_engine(engine.strip(), args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
