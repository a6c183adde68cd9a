"""How fast GET /v1/reports/summary answers for a year of daily buckets over many transfers.

Builds a fresh database (SQLite file, or the bench PostgreSQL database), makes --customers customers through
the API (each with a grant and one debit, so every account the report reads exists), then inserts
--transfers usage transfers (customer lot -> revenue, one operation each) spread over the past 365 days
straight into the tables, as fast as the driver goes. It closes each of those days as the daily job does
(reports/rollups.py, timed), marks them closed, and calls the summary (ASGI app called directly, no HTTP
server) --runs times for the last 365 days grouped by day, printing the median and p99. Today is computed
live on each call. Prints figures; asserts nothing.

    python bench/summary_bench.py [--engine sqlite|postgres] [--transfers 100000] [--customers 200] [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.harness import fresh_database
from creditflow.app import create_app
from creditflow.config import Settings
from creditflow.db.migrate import upgrade
from creditflow.db.tables import job_runs, operations, transfers
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.jobs.occurrences import day_bounds
from creditflow.keys.service import create_key
from creditflow.reports.rollups import close_day
from creditflow.reports.summary import CLOSE_JOB

BATCH = 5_000
DAYS = 365


async def _customers(http: httpx.AsyncClient, count: int) -> list[str]:
    """(lot account id) per customer: a large paid grant to draw usage from."""
    lots = []
    for n in range(count):
        customer = (await http.post("/v1/customers", json={"external_id": f"bench-{n}", "currency": "USD"})).json()
        lot = (await http.post("/v1/credit_grants", json={"customer": customer["id"], "amount": "1000000",
                                                            "category": "paid"})).json()
        assert (await http.post("/v1/debits", json={"customer": customer["id"], "amount": "1"})).status_code == 201
        lots.append((customer["id"], lot["wallet"], lot["id"]))
    return lots


async def _seed(engine, lots: list[tuple[str, str, str]], count: int, now: datetime) -> None:
    rng = random.Random(7)
    for first in range(0, count, BATCH):
        ops, moves = [], []
        for _ in range(min(BATCH, count - first)):
            customer_id, wallet_id, lot = rng.choice(lots)
            at = now - timedelta(seconds=rng.randrange(DAYS * 86_400))
            operation_id = new_id("op")
            ops.append({"id": operation_id, "kind": "debit", "customer_id": customer_id, "wallet_id": wallet_id,
                        "unit": "USD", "amount": 1000, "reversed_amount": 0, "reference_id": None,
                        "actor": "bench", "api_key_id": None, "description": None, "metadata": {},
                        "created_at": at})
            moves.append({"id": new_id("trf"), "operation_id": operation_id, "debit_account_id": lot,
                          "credit_account_id": "sys_revenue_USD", "amount": 1000, "unit": "USD", "kind": "debit",
                          "created_at": at})
        async with engine.begin() as conn:
            await conn.execute(operations.insert(), ops)
            await conn.execute(transfers.insert(), moves)


async def _close_year(engine, today, timezone: str, now: datetime) -> float:
    started = time.perf_counter()
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        start, end = day_bounds(day, timezone)
        async with engine.begin() as conn:
            await close_day(conn, day, start, end)
            await conn.execute(job_runs.insert().values(job=CLOSE_JOB, occurrence_at=start, runner="bench",
                                                        claimed_at=now, lease_until=now, finished_at=now))
    return time.perf_counter() - started


async def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        database = await fresh_database(args.engine, Path(workdir), name="creditflow_summary_bench")
        settings = Settings(database_url=database.url, jobs_enabled=False)
        app = create_app(settings)
        engine = app.state.engine
        await upgrade(engine)
        now = app.state.clock.now()
        async with engine.begin() as conn:
            _, secret = await create_key(Tx(conn=conn, now=now, actor="bench"), "bench")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench",
                                     headers={"Authorization": f"Bearer {secret}"}, timeout=120) as http:
            lots = await _customers(http, args.customers)
            started = time.perf_counter()
            await _seed(engine, lots, args.transfers, now)
            print(f"{database.engine}: {args.transfers:,} transfers over {DAYS} days, {args.customers} customers "
                  f"(seeded in {time.perf_counter() - started:.1f} s)")
            today = now.date()
            print(f"  daily close of {DAYS} days: {await _close_year(engine, today, 'UTC', now):.1f} s")
            params = {"from": (today - timedelta(days=DAYS - 1)).isoformat(), "to": today.isoformat(),
                      "group_by": "day", "currency": "USD"}
            timings = []
            for _ in range(args.runs):
                started = time.perf_counter()
                response = await http.get("/v1/reports/summary", params=params)
                timings.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, response.text
            timings.sort()
            p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
            print(f"  summary, {len(response.json()['data'])} daily buckets: median {statistics.median(timings):.1f} ms"
                  f"   p99 {p99:.1f} ms   ({args.runs} runs)")
        await app.state.debit_committer.stop()
        await engine.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--transfers", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args()))
