"""Where POST /v1/events/batch spends its time: one process, the ASGI app called directly, no HTTP server.

Builds a fresh database (the bench's SQLite file or PostgreSQL database), one funded customer per
client, a count metric and a standard price, then sends batches of unique events and prints the
server-side CPU and wall time per event, the SQL statements (and rows of executemany) per batch, and
optionally the top functions under cProfile.

    python bench/events_profile.py [--engine postgres] [--batches 200] [--clients 4] [--profile 40]

Concurrency here is asyncio inside one process (--clients batches in flight at once, so concurrent
batches are group-committed as they are when served), not the served setup of bench/events_bench.py;
this is for finding costs, not for headline figures. --sample is a sampling profiler of the event loop's
thread (no py-spy needed); --profile is cProfile, which inflates small Python functions. On PostgreSQL it
also prints the server processes' CPU per event.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg
from sqlalchemy import event

from bench.harness import _cpu_seconds, fresh_database
from creditflow.app import create_app
from creditflow.clock import SystemClock
from creditflow.config import Settings
from creditflow.db.migrate import upgrade
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key

METRIC = "bench_calls"


class Sampler:
    """A sampling profiler (what py-spy would show, roughly): a thread looks at the main thread's stack every
    `interval` seconds. Unlike cProfile it does not slow small Python functions down more than C ones."""

    def __init__(self, interval: float = 0.0005) -> None:
        self.interval = interval
        self.own: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._target = threading.get_ident()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        sys.setswitchinterval(self.interval / 2)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self._target)
            if frame is None:
                continue
            self.samples += 1
            self.own[_where(frame)] += 1
            seen = set()
            while frame is not None:
                where = _where(frame)
                if where not in seen:
                    seen.add(where)
                    self.inclusive[where] += 1
                frame = frame.f_back

    def report(self, top: int) -> None:
        idle = self.own["selectors.py:select"]
        busy = max(self.samples - idle, 1)
        print(f"\n{self.samples} samples, {busy} not waiting in select(); shares of those, own (top of stack):")
        for where, count in self.own.most_common(top + 1):
            if where != "selectors.py:select":
                print(f"  {100 * count / busy:5.1f}%  {where}")
        print("inclusive:")
        for where, count in self.inclusive.most_common(top):
            print(f"  {100 * count / busy:5.1f}%  {where}")


def _where(frame: Any) -> str:
    code = frame.f_code
    path = code.co_filename
    for marker in ("site-packages/", "src/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{path}:{code.co_name}"


class Statements:
    """SQL statements sent, counted through SQLAlchemy's cursor events and asyncpg's raw entry points."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.rows = 0
        self.enabled = False

    def note(self, sql: str, rows: int = 1) -> None:
        if self.enabled:
            self.calls[" ".join(sql.split())[:90]] += 1
            self.rows += rows

    def install(self, engine: Any) -> None:
        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(_conn, _cursor, statement, parameters, _context, executemany):
            self.note(statement, len(parameters) if executemany else 1)

        counter = self
        for name in ("execute", "fetch", "fetchrow", "fetchval"):
            original = getattr(asyncpg.Connection, name)

            def wrapped(conn, query, *args, __original=original, **kwargs):
                counter.note(query)
                return __original(conn, query, *args, **kwargs)

            setattr(asyncpg.Connection, name, wrapped)


async def call_raw(app: Any, token: str, method: str, path: str, payload: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app, as uvicorn would make it; the status and the raw body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method, "scheme": "http",
        "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
        "headers": [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode()),
                    (b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())],
        "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80), "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def call(app: Any, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    status, data = await call_raw(app, token, method, path, json.dumps(body).encode() if body is not None else b"")
    return status, json.loads(data) if data else None


async def database_backends(dsn: str) -> list[int]:
    """The PostgreSQL server processes serving the profiled database (the app's pooled connections)."""
    name = dsn.rsplit("/", 1)[1]
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", name
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


async def expect(app: Any, token: str, status: int, method: str, path: str, body: Any = None) -> Any:
    got, answer = await call(app, token, method, path, body)
    if got != status:
        raise RuntimeError(f"{method} {path} answered {got}: {answer}")
    return answer


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="creditflow-profile-") as scratch:
        await profile(args, Path(scratch))


async def profile(args: argparse.Namespace, workdir: Path) -> None:
    database = await fresh_database(args.engine, workdir, "creditflow_profile")
    settings = Settings(database_url=database.url, jobs_enabled=False)
    app = create_app(settings, clock=SystemClock())
    engine = app.state.engine
    await upgrade(engine)
    async with engine.begin() as conn:
        _, token = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="bench"), "bench")
    customers = []
    for index in range(args.clients):
        customer = await expect(app, token, 201, "POST", "/v1/customers", {"external_id": f"prof-{index}"})
        await expect(app, token, 201, "POST", "/v1/credit_grants",
                     {"customer": customer["id"], "amount": "1000000", "category": "paid"})
        customers.append(customer["id"])
    await expect(app, token, 201, "POST", "/v1/metrics", {"code": METRIC, "name": "Calls", "aggregation": "count"})
    await expect(app, token, 201, "POST", "/v1/prices",
                 {"metric": METRIC, "currency": "USD", "model": "standard", "properties": {"amount": "0.001"}})
    statements = Statements()
    statements.install(engine)
    run = uuid.uuid4().hex[:8]
    counter = [0]

    def batch_for(index: int) -> bytes:
        first = counter[0]
        counter[0] += args.batch
        return json.dumps({"events": [{"customer": customers[index], "metric": METRIC, "transaction_id": f"{run}-{n}"}
                                      for n in range(first, first + args.batch)]}).encode()

    # Bodies are encoded before the clock starts and answers only checked, not parsed: the figures are the
    # server side's.
    expected = (f'"accepted": {args.batch},'.encode(), f'"accepted":{args.batch},'.encode())

    async def client(index: int, bodies: list[bytes]) -> None:
        for body in bodies:
            status, answer = await call_raw(app, token, "POST", "/v1/events/batch", body)
            if status != 200 or not any(e in answer[:200] for e in expected):
                raise RuntimeError(f"not all accepted: {status} {answer[:300]!r}")

    await asyncio.gather(*(client(i, [batch_for(i) for _ in range(5)]) for i in range(args.clients)))  # warm up
    per_client = max(1, args.batches // args.clients)
    statements.enabled = True
    await client(0, [batch_for(0)])
    one_batch = dict(statements.calls)
    one_rows = statements.rows
    statements.enabled = False
    profiler = cProfile.Profile() if args.profile else None
    bodies = [[batch_for(i) for _ in range(per_client)] for i in range(args.clients)]
    backends = await database_backends(database.postgres_dsn) if database.postgres_dsn else []
    db_cpu = sum(_cpu_seconds(pid) for pid in backends)
    cpu, wall = time.process_time(), time.perf_counter()
    sampler = Sampler() if args.sample else None
    if sampler:
        sampler.start()
    if profiler:
        profiler.enable()
    await asyncio.gather(*(client(i, bodies[i]) for i in range(args.clients)))
    if profiler:
        profiler.disable()
    if sampler:
        sampler.stop()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    db_cpu = sum(_cpu_seconds(pid) for pid in backends) - db_cpu
    events = per_client * args.clients * args.batch
    print(f"{args.engine}: {events} events in {wall:.2f} s = {events / wall:.0f} events/s in one process; "
          f"this process's CPU {cpu / events * 1e6:.1f} us/event ({'under cProfile' if profiler else 'no profiler'})"
          + (f"; PostgreSQL backends' CPU {db_cpu / events * 1e6:.1f} us/event" if backends else ""))
    print(f"statements per batch of {args.batch}: {sum(one_batch.values())} ({one_rows} incl. executemany rows)")
    for sql, count in sorted(one_batch.items(), key=lambda kv: -kv[1]):
        print(f"  {count:>4} x {sql}")
    if sampler:
        sampler.report(args.sample)
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats(args.sort).print_stats(args.profile)
        if args.callers:
            stats.print_callers(args.callers)
    await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", default="postgres", choices=("postgres", "sqlite"))
    parser.add_argument("--batches", type=int, default=200)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions under cProfile")
    parser.add_argument("--sample", type=int, default=0, help="print the top N lines of a sampling profile")
    parser.add_argument("--callers", default="", help="also print the callers of functions matching this")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    asyncio.run(main(parser.parse_args()))
