"""Benchmark: usage events through POST /v1/events/batch, and authorize + capture, against a served creditflow.

Starts `creditflow serve` as a user would (a new SQLite file, then a new PostgreSQL database with
--workers processes), creates one customer per client with a large grant, a count metric and a standard
price, then:

- events: each client sends POST /v1/events/batch with 100 events, every one unique, all of its own
  customer, each rated and debited from the wallet in real time, for --seconds. Afterwards the wallets
  must have gone down by exactly the accepted events times the price (or the run fails).
- authorize + capture: POST /v1/authorize {customer, amount} places a hold, then
  POST /v1/holds/{hold_id}/capture settles a smaller real cost, for --seconds.

Durability stays on: SQLite synchronous=FULL, PostgreSQL synchronous_commit=on.

    python bench/events_bench.py [--seconds 20] [--clients 16] [--workers 3] [--engines sqlite,postgres]

Prints events/s (and requests/s), pairs/s, and each request's (or pair's) p50 and p99; asserts nothing
about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections import Counter
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.harness import (
    Server,
    arguments,
    cpu_line,
    create_customers,
    database_cpu_line,
    database_cpu_seconds,
    each_engine,
    expect,
    fresh_database,
    line,
    workers_for,
)
from bench.loadgen import Connection, Result, drive

BATCH = 100
METRIC = "bench_calls"
PRICE = "0.001"
GRANT = "1000000"
ESTIMATE, COST = "0.02", "0.015"


async def create_metric_and_price(server: Server) -> None:
    conn = await server.connect()
    await expect(conn, 201, "POST", "/v1/metrics", {"code": METRIC, "name": "Bench calls", "aggregation": "count"})
    await expect(conn, 201, "POST", "/v1/prices",
                 {"metric": METRIC, "currency": "USD", "model": "standard", "properties": {"amount": PRICE}})
    await conn.close()


async def ingest_phase(server: Server, customers: list[str], seconds: float) -> tuple[Result, int, Counter[str]]:
    """Batches of 100 unique events per client; the result, the events accepted, and why any were rejected."""
    run = uuid.uuid4().hex[:8]
    sent = [0] * len(customers)
    accepted = 0
    rejected: Counter[str] = Counter()

    async def batch(conn: Connection, index: int) -> int:
        nonlocal accepted
        first = sent[index]
        sent[index] += BATCH
        events = [
            {"customer": customers[index], "metric": METRIC, "transaction_id": f"{run}-{index}-{n}"}
            for n in range(first, first + BATCH)
        ]
        status, answer = await conn.request("POST", "/v1/events/batch", {"events": events})
        if status == 200:
            accepted += answer["accepted"]
            rejected.update(r["error"]["code"] for r in answer["results"] if r["status"] == "rejected")
            rejected.update("duplicate" for r in answer["results"] if r["status"] == "duplicate")
        return status

    result = await drive("127.0.0.1", server.port, server.token, len(customers), seconds, batch)
    return result, accepted, rejected


async def charged(server: Server, customers: list[str]) -> Decimal:
    """How far the customers' USD wallets went down from their grants."""
    conn = await server.connect()
    total = Decimal(0)
    for customer in customers:
        wallets = (await expect(conn, 200, "GET", f"/v1/customers/{customer}/wallets"))["data"]
        usd = next(w for w in wallets if w["currency"] == "USD")
        total += Decimal(GRANT) - Decimal(usd["available"])
    await conn.close()
    return total


async def authorize_available(server: Server, customer: str) -> bool:
    """Whether POST /v1/authorize exists on this server (404 naming no parameter: no such route); the
    probe's hold is voided again."""
    conn = await server.connect()
    status, answer = await conn.request("POST", "/v1/authorize", {"customer": customer, "amount": ESTIMATE})
    if status == 200 and answer.get("allowed"):
        await expect(conn, 200, "POST", f"/v1/holds/{answer['hold_id']}/void", {})
    await conn.close()
    if status == 404 and not (answer or {}).get("error", {}).get("param"):
        return False
    if status != 200 or not answer.get("allowed"):
        raise RuntimeError(f"POST /v1/authorize answered {status}: {answer}")
    return True


async def authorize_phase(server: Server, customers: list[str], seconds: float) -> tuple[Result, Counter[str]]:
    """authorize then capture, per client; the result and why any authorization was refused."""
    refused: Counter[str] = Counter()

    async def authorize_and_capture(conn: Connection, index: int) -> int:
        status, answer = await conn.request("POST", "/v1/authorize", {"customer": customers[index], "amount": ESTIMATE})
        if status != 200:
            return status
        if not answer["allowed"]:
            refused[answer["reason"]] += 1
            return 402
        status, _ = await conn.request("POST", f"/v1/holds/{answer['hold_id']}/capture", {"amount": COST})
        return status

    result = await drive("127.0.0.1", server.port, server.token, len(customers), seconds, authorize_and_capture)
    return result, refused


async def bench_engine(engine: str, args: argparse.Namespace, workdir: Path) -> None:
    database = await fresh_database(engine, workdir)
    workers = workers_for(engine, args)
    print(f"\n{engine} ({database.durability}; {args.clients} clients, {args.seconds:.0f} s per phase, "
          f"{workers} worker(s))", flush=True)
    server = Server(database.url, workers, workdir)
    try:
        await server.wait_ready()
        customers = await create_customers(server, args.clients, GRANT)
        await create_metric_and_price(server)

        cpu_before, db_before = server.worker_cpu_seconds(), await database_cpu_seconds(database)
        ingest, accepted, rejected = await ingest_phase(server, customers, args.seconds)
        cpu_after, db_after = server.worker_cpu_seconds(), await database_cpu_seconds(database)
        requests = ingest.summary()["ops_per_s"]
        print(line(f"POST /v1/events/batch ({BATCH} events)", ingest, "events", done=accepted)
              + f"   ({requests:.0f} requests/s)")
        if rejected:
            print(f"  events not accepted: {dict(rejected)}")
        print(cpu_line(cpu_before, cpu_after, ingest.elapsed, accepted))
        if db_after:
            print(database_cpu_line(db_before, db_after, ingest.elapsed, accepted))
        expected = accepted * Decimal(PRICE)
        if await charged(server, customers) != expected:
            raise RuntimeError(f"the wallets did not go down by {accepted} events x {PRICE} = {expected}")
        print(f"  {accepted} events accepted, wallets down by exactly {expected} ({accepted} x {PRICE})", flush=True)

        if await authorize_available(server, customers[0]):
            cpu_before, db_before = server.worker_cpu_seconds(), await database_cpu_seconds(database)
            pairs, refused = await authorize_phase(server, customers, args.seconds)
            cpu_after, db_after = server.worker_cpu_seconds(), await database_cpu_seconds(database)
            print(line("authorize + capture (pairs)", pairs, "pairs"))
            if refused:
                print(f"  authorizations refused: {dict(refused)}")
            print(cpu_line(cpu_before, cpu_after, pairs.elapsed, len(pairs.latencies)))
            if db_after:
                print(database_cpu_line(db_before, db_after, pairs.elapsed, len(pairs.latencies)))
        else:
            print("  authorize: endpoint not available")
    finally:
        server.stop()


if __name__ == "__main__":
    asyncio.run(each_engine(arguments(__doc__, seconds=20.0, clients=16), bench_engine))
