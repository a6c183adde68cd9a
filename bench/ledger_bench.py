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
import sqlite3
import sys
import threading
import time
import uuid
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import Server, arguments, create_customers, each_engine, fresh_database, line, workers_for
from bench.loadgen import Connection, Result, drive


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


async def bench_engine(engine: str, args: argparse.Namespace, workdir: Path) -> None:
    database = await fresh_database(engine, workdir)
    workers = workers_for(engine, args)
    print(f"\n{engine} ({database.durability}; {args.clients} clients, {args.seconds:.0f} s per phase, "
          f"{workers} worker(s))")
    server = Server(database.url, workers, workdir)
    try:
        await server.wait_ready()
        customers = await create_customers(server, args.clients)
        debits, holds = await http_phase(server, customers, args.seconds)
    finally:
        server.stop()
    if database.sqlite_path is not None:
        raw = await asyncio.to_thread(raw_sqlite, database.sqlite_path, args.clients, args.seconds)
    else:
        assert database.postgres_dsn is not None
        raw = await raw_postgres(database.postgres_dsn, args.clients, args.seconds)
    print(line("HTTP POST /v1/debits", debits))
    print(line("HTTP hold + capture (iterations)", holds))
    print(line("raw driver debit (UPDATE+INSERT)", raw))
    ratio = debits.summary()["ops_per_s"] / max(raw.summary()["ops_per_s"], 1e-9)
    print(f"  ratio HTTP debits / raw baseline: {ratio:.2f}x")


if __name__ == "__main__":
    asyncio.run(each_engine(arguments(__doc__, seconds=10.0, clients=32), bench_engine))
