"""How long the portal's overview takes to render on the server for a customer with 100k transactions.

The app runs in this process (httpx's ASGI transport): the figure is server time, from request to the last
byte of HTML, with no network in between. The customer's history is made through the API as a user would
(a grant, then debits through the ledger, each one an operation), plus a month of usage events for the chart.

    python bench/portal_overview.py [--engine sqlite|postgres] [--transactions 100000] [--renders 200]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import httpx

from creditflow.app import create_app
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.migrate import upgrade
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from creditflow.ledger.spend import DebitRequest, debit_many

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
BATCH = 2_000
WARM_UP = 5
PROFILE = os.environ.get("PROFILE") == "1"


async def _database(engine: str, workdir: Path) -> str:
    if engine == "sqlite":
        return f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
    name = f"creditflow_portal_bench_{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(PG_ADMIN)
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"


async def _ok(response: httpx.Response, status: int = 201) -> dict:
    if response.status_code != status:
        sys.exit(f"setup failed: {response.status_code} {response.text}")
    return response.json()


async def _history(app: Any, http: httpx.AsyncClient, customer: str, transactions: int) -> None:
    """A grant, then `transactions` debits through the ledger's own debit_many, 2,000 per transaction: the same
    rows a debit request writes, made fast enough for a benchmark's set-up."""
    body = {"customer": customer, "amount": "100000000", "category": "paid"}
    await _ok(await http.post("/v1/credit_grants", json=body))
    done = 0
    while done < transactions:
        count = min(BATCH, transactions - done)
        async with app.state.engine.begin() as conn:
            tx = Tx(conn=conn, now=datetime.now(UTC), actor="bench")
            outcomes = await debit_many(tx, [DebitRequest(customer, 10_000, None, "API call", {})] * count)
        assert not any(isinstance(o, Exception) for o in outcomes)
        done += count
        if done % 20_000 == 0:
            print(f"  {done} transactions", flush=True)


async def _usage(http: httpx.AsyncClient, customer: str) -> None:
    await _ok(await http.post("/v1/metrics", json={"code": "tokens", "name": "Tokens", "aggregation": "count"}))
    price = {"metric": "tokens", "currency": "USD", "model": "standard", "properties": {"amount": "0.001"}}
    await _ok(await http.post("/v1/prices", json=price))
    now = datetime.now(UTC)
    events = [
        {"customer": customer, "metric": "tokens", "transaction_id": f"e{n}",
         "timestamp": (now - timedelta(hours=n % (30 * 24))).isoformat()}
        for n in range(5000)
    ]
    for start in range(0, len(events), 1000):
        await _ok(await http.post("/v1/events/batch", json={"events": events[start:start + 1000]}), 200)


async def run(engine_name: str, transactions: int, renders: int) -> None:
    with tempfile.TemporaryDirectory() as workdir:
        url = await _database(engine_name, Path(workdir))
        settings = Settings(database_url=url, jobs_enabled=False, events_late_window_hours=24 * 31)
        setup_engine = create_engine(settings, pooled=False)
        await upgrade(setup_engine)
        async with setup_engine.begin() as conn:
            _, operator = await create_key(Tx(conn=conn, now=datetime.now(UTC), actor="bench"), "bench")
        await setup_engine.dispose()
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:
            http.headers["Authorization"] = f"Bearer {operator}"
            made = await http.post("/v1/customers", json={"external_id": "big", "currency": "USD"})
            customer = (await _ok(made))["id"]
            print(f"{engine_name}: making {transactions} transactions ...", flush=True)
            await _history(app, http, customer, transactions)
            await _usage(http, customer)
            link = (await _ok(await http.post(f"/v1/customers/{customer}/portal_sessions", json={})))["url"]
            del http.headers["Authorization"]
            parts = urlsplit(link)
            opened = await http.get(f"{parts.path}?{parts.query}")
            http.cookies = opened.cookies
            for _ in range(WARM_UP):  # the first renders compile templates and load Babel's locale data
                await http.get("/portal")
            timings = []
            profiler = cProfile.Profile() if PROFILE else None
            if profiler:
                profiler.enable()
            for _ in range(renders):
                started = time.perf_counter()
                page = await http.get("/portal")
                timings.append((time.perf_counter() - started) * 1000)
                assert page.status_code == 200, page.text
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(40)
        await app.state.debit_committer.stop()
        await app.state.engine.dispose()
    timings.sort()
    p99 = timings[max(0, int(len(timings) * 0.99) - 1)]
    print(
        f"{engine_name}: overview of a customer with {transactions} transactions, {renders} renders: "
        f"median {statistics.median(timings):.1f} ms, p99 {p99:.1f} ms, max {timings[-1]:.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--transactions", type=int, default=100_000)
    parser.add_argument("--renders", type=int, default=200)
    args = parser.parse_args()
    asyncio.run(run(args.engine, args.transactions, args.renders))


if __name__ == "__main__":
    main()
