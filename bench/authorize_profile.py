"""Where POST /v1/authorize + POST /v1/holds/{hold_id}/capture spend their time: one process, the ASGI app
called directly, no HTTP server.

Builds a fresh database, one funded customer per client, then runs authorize (by customer, as
bench/events_bench.py does, or with --api-key by a customer API key) followed by a capture of a smaller
cost, and prints the server-side CPU and wall time per pair, the SQL statements of one pair, and
optionally the top functions under cProfile (--profile) or a sampling profiler (--sample).

    python bench/authorize_profile.py [--engine postgres] [--pairs 400] [--clients 4] [--sample 30]

As in bench/events_profile.py, concurrency is asyncio inside one process; this is for finding costs, not
for headline figures.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.events_profile import Sampler, Statements, call_raw, database_backends, expect
from bench.harness import _cpu_seconds, fresh_database
from creditflow.app import create_app
from creditflow.clock import SystemClock
from creditflow.config import Settings
from creditflow.db.migrate import upgrade
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key

ESTIMATE, COST = "0.02", "0.015"


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="creditflow-profile-") as scratch:
        await profile(args, Path(scratch))


async def subjects(app: Any, token: str, args: argparse.Namespace) -> list[dict[str, str]]:
    """One funded customer per client; what each client's authorize names it by (customer id or API key)."""
    found = []
    for index in range(args.clients):
        customer = await expect(app, token, 201, "POST", "/v1/customers", {"external_id": f"prof-{index}"})
        await expect(app, token, 201, "POST", "/v1/credit_grants",
                     {"customer": customer["id"], "amount": "1000000", "category": "paid"})
        if args.api_key:
            key = await expect(app, token, 201, "POST", f"/v1/customers/{customer['id']}/api_keys",
                               {"name": "bench", "rate_limit": {"requests": 1_000_000, "per": "second"}})
            found.append({"api_key": key["secret"]})
        else:
            found.append({"customer": customer["id"]})
    return found


async def profile(args: argparse.Namespace, workdir: Path) -> None:
    database = await fresh_database(args.engine, workdir, "creditflow_profile")
    settings = Settings(database_url=database.url, jobs_enabled=False)
    app = create_app(settings, clock=SystemClock())
    engine = app.state.engine
    await upgrade(engine)
    async with engine.begin() as conn:
        _, token = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="bench"), "bench")
    bodies = [json.dumps({**subject, "amount": ESTIMATE}).encode() for subject in await subjects(app, token, args)]
    capture = json.dumps({"amount": COST}).encode()

    async def pair(index: int) -> None:
        status, answer = await call_raw(app, token, "POST", "/v1/authorize", bodies[index])
        decoded = json.loads(answer)
        if status != 200 or not decoded.get("allowed"):
            raise RuntimeError(f"authorize answered {status}: {decoded}")
        status, answer = await call_raw(app, token, "POST", f"/v1/holds/{decoded['hold_id']}/capture", capture)
        if status != 200:
            raise RuntimeError(f"capture answered {status}: {answer[:300]!r}")

    async def client(index: int, pairs: int) -> None:
        for _ in range(pairs):
            await pair(index)

    await asyncio.gather(*(client(i, 5) for i in range(args.clients)))  # warm up
    statements = Statements()
    statements.install(engine)
    statements.enabled = True
    await pair(0)
    one_pair = dict(statements.calls)
    statements.enabled = False
    per_client = max(1, args.pairs // args.clients)
    backends = await database_backends(database.postgres_dsn) if database.postgres_dsn else []
    db_cpu = sum(_cpu_seconds(pid) for pid in backends)
    profiler = cProfile.Profile() if args.profile else None
    sampler = Sampler() if args.sample else None
    started, wall = os.times(), time.perf_counter()
    if sampler:
        sampler.start()
    if profiler:
        profiler.enable()
    await asyncio.gather(*(client(i, per_client) for i in range(args.clients)))
    if profiler:
        profiler.disable()
    if sampler:
        sampler.stop()
    ended, wall = os.times(), time.perf_counter() - wall
    user, system = ended.user - started.user, ended.system - started.system
    cpu = user + system
    db_cpu = sum(_cpu_seconds(pid) for pid in backends) - db_cpu
    pairs = per_client * args.clients
    print(f"{args.engine}: {pairs} pairs in {wall:.2f} s = {pairs / wall:.0f} pairs/s in one process; "
          f"this process's CPU {cpu / pairs * 1e3:.2f} ms/pair ({user / pairs * 1e3:.2f} user, "
          f"{system / pairs * 1e3:.2f} system; "
          f"{'under cProfile' if profiler else 'no profiler'})"
          + (f"; PostgreSQL backends' CPU {db_cpu / pairs * 1e3:.2f} ms/pair" if backends else ""))
    print(f"statements per pair: {sum(one_pair.values())}")
    for sql, count in sorted(one_pair.items(), key=lambda kv: -kv[1]):
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
    parser.add_argument("--pairs", type=int, default=400)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--api-key", action="store_true", help="authorize with a customer API key, not the customer")
    parser.add_argument("--profile", type=int, default=0, help="print the top N functions under cProfile")
    parser.add_argument("--sample", type=int, default=0, help="print the top N lines of a sampling profile")
    parser.add_argument("--callers", default="", help="also print the callers of functions matching this")
    parser.add_argument("--sort", default="tottime", help="cProfile sort key (tottime, cumulative)")
    asyncio.run(main(parser.parse_args()))
