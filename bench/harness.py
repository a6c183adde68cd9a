"""What the benchmarks share: `creditflow serve` on a fresh database, funded customers, figure lines.

Each benchmark starts the server as a user would (a new SQLite file, or a new PostgreSQL database),
drives it through bench/loadgen.py and prints figures; none asserts anything about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from bench.loadgen import Connection, Result

PG_ADMIN = os.environ.get("CREDITFLOW_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PG_DB = "creditflow_bench"
CREDITFLOW = str(Path(sys.executable).with_name("creditflow"))
# 3 on 2 cores: the workers wait on the database much of the time.
DEFAULT_PG_WORKERS = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`creditflow serve` in a subprocess; the first operator key is read from its output."""

    def __init__(self, database_url: str, workers: int, workdir: Path) -> None:
        self.port = free_port()
        self.workers = workers
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

    async def connect(self) -> Connection:
        conn = Connection("127.0.0.1", self.port, self.token)
        await conn.open()
        return conn

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = await self.connect()
                status, _ = await conn.request("GET", "/health/ready")
                await conn.close()
                if status == 200:
                    return
            except OSError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("server did not become ready")

    def worker_cpu_seconds(self) -> list[float]:
        """CPU seconds used so far by each process serving requests (Linux /proc; empty elsewhere)."""
        if not Path("/proc/self/stat").exists():
            return []
        if self.workers == 1:
            return [_cpu_seconds(self.process.pid)]
        workers = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                    if parent == self.process.pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                        workers.append(_cpu_seconds(int(entry.name)))
                except (OSError, IndexError, ValueError):
                    continue
        return workers

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


_HAS_PROC = Path("/proc/self/stat").exists()


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of one process, from /proc/PID/stat (fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_line(before: list[float], after: list[float], elapsed: float, done: int | None = None) -> str:
    """How the phase's work spread over the server's processes: uvicorn gives each keep-alive connection
    to whichever worker accepts it first, so the split can be uneven. With `done`, also per unit of work."""
    if not after or len(before) != len(after):
        return "  server CPU: not measured"
    used = " + ".join(f"{b - a:.1f}" for a, b in zip(before, after, strict=True))
    per_unit = ""
    if done:
        total = sum(b - a for a, b in zip(before, after, strict=True))
        per_unit = f"; {total / done * 1e6:.0f} us per unit"
    return (f"  server CPU: {used} s over {elapsed:.1f} s ({len(after)} process(es); {os.cpu_count()} cores, "
            f"shared with the database and the load generator{per_unit})")


async def database_cpu_seconds(database: Database) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL server process connected to the bench database (Linux
    /proc, and the server on this machine); empty for SQLite, which runs inside the server's processes."""
    if database.postgres_dsn is None or not _HAS_PROC:
        return {}
    conn = await asyncpg.connect(database.postgres_dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    used = {}
    for row in rows:
        try:
            used[row["pid"]] = _cpu_seconds(row["pid"])
        except (OSError, IndexError, ValueError):
            continue
    return used


def database_cpu_line(before: dict[int, float], after: dict[int, float], elapsed: float, done: int) -> str:
    """The database's share: its server processes' CPU over the phase, per unit of work done."""
    if not after:
        return ""
    used = sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())
    return f"  database CPU: {used:.1f} s over {elapsed:.1f} s ({used / max(done, 1) * 1e6:.0f} us per unit)"


async def expect(conn: Connection, status: int, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """One setup request that must answer `status`; its JSON body."""
    got, answer = await conn.request(method, path, body)
    if got != status:
        raise RuntimeError(f"{method} {path} answered {got}, not {status}: {answer}")
    return answer


async def create_customers(server: Server, count: int, amount: str = "1000000") -> list[str]:
    """`count` customers, each with a paid grant of `amount` in its default currency (USD)."""
    conn = await server.connect()
    ids = []
    for index in range(count):
        external_id = f"bench-{index}-{uuid.uuid4().hex[:6]}"
        customer = await expect(conn, 201, "POST", "/v1/customers", {"external_id": external_id})
        await expect(conn, 201, "POST", "/v1/credit_grants",
                     {"customer": customer["id"], "amount": amount, "category": "paid"})
        ids.append(customer["id"])
    await conn.close()
    return ids


@dataclass(frozen=True, slots=True)
class Database:
    """A fresh database for one engine: how the server reaches it, and how a raw driver does."""

    engine: str
    url: str
    durability: str
    sqlite_path: Path | None = None
    postgres_dsn: str | None = None


async def fresh_database(engine: str, workdir: Path, name: str = PG_DB) -> Database:
    """A new SQLite file in `workdir`, or the PostgreSQL database `name` dropped and created again."""
    if engine == "sqlite":
        path = workdir / "bench.db"
        path.unlink(missing_ok=True)
        return Database(engine, f"sqlite+aiosqlite:///{path}", "synchronous=FULL, WAL", sqlite_path=path)
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    setting = await admin.fetchval("SHOW synchronous_commit")
    version = await admin.fetchval("SHOW server_version")
    await admin.close()
    dsn = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    url = dsn.replace("postgresql://", "postgresql+asyncpg://", 1)
    return Database(engine, url, f"PostgreSQL {version.split()[0]}, synchronous_commit={setting}", postgres_dsn=dsn)


def workers_for(engine: str, args: argparse.Namespace) -> int:
    """SQLite has one writer: one process. PostgreSQL: --workers."""
    return 1 if engine == "sqlite" else args.workers


def line(label: str, result: Result, unit: str = "ops", done: int | None = None) -> str:
    """`done` units per second over the phase (default: one per iteration), with the iterations' p50 and p99."""
    s = result.summary()
    rate = s["ops_per_s"] if done is None else done / max(result.elapsed, 1e-9)
    errors = {k: v for k, v in result.statuses.items() if k >= 400}
    extra = f"  errors={errors}" if errors else ""
    return f"  {label:<36} {rate:>9.0f} {unit}/s   p50 {s['p50_ms']:>7.2f} ms   p99 {s['p99_ms']:>7.2f} ms{extra}"


def arguments(doc: str | None, seconds: float, clients: int) -> argparse.Namespace:
    """The options every benchmark takes: phase length, concurrency, PostgreSQL workers, engines."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=seconds, help="length of each phase")
    parser.add_argument("--clients", type=int, default=clients, help="concurrent keep-alive connections")
    parser.add_argument("--workers", type=int, default=DEFAULT_PG_WORKERS, help="HTTP worker processes on PostgreSQL")
    parser.add_argument("--engines", default="sqlite,postgres")
    return parser.parse_args()


EngineBench = Callable[[str, argparse.Namespace, Path], Awaitable[None]]


async def each_engine(args: argparse.Namespace, bench_engine: EngineBench) -> None:
    """Run `bench_engine(engine, args, workdir)` for each of --engines, in one scratch directory."""
    workdir = Path(tempfile.mkdtemp(prefix="creditflow-bench-"))
    try:
        for engine in args.engines.split(","):
            await bench_engine(engine.strip(), args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
