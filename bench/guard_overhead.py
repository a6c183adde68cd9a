"""What CreditGuard adds to a request, against a local `creditflow serve`.

A FastAPI app (in this process, called through ASGI, so no socket of its own) has one free route and the
same route behind CreditGuard (price 0.001 USD). One client sends sequential requests; for each phase it
prints p50 and p99. Then the same authorize + capture pair straight through the SDK, to split the guarded
route's extra time into creditflow's two round trips and the guard's own work:

    guard own work ~= median over turns of (guarded - free - authorize + capture through the SDK)

Prints figures; asserts nothing about speed.

    .venv/bin/python bench/guard_overhead.py --seconds 5 --engines sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from fastapi import FastAPI

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.harness import Server, arguments, each_engine, fresh_database, workers_for
from creditflow_client import AsyncCreditflow
from creditflow_client.fastapi import Charge, CreditGuard


def guarded_app(guard: CreditGuard) -> FastAPI:
    app = FastAPI()

    @app.get("/free")
    async def free() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/paid")
    async def paid(charge: Charge = guard.dependency()) -> dict[str, bool]:
        return {"ok": True}

    return app


async def interleaved(seconds: float, calls: list[Callable[[], Awaitable[None]]]) -> list[list[float]]:
    """Each call's latencies, taking turns, so a busy machine slows every phase alike."""
    latencies: list[list[float]] = [[] for _ in calls]
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        for call, seen in zip(calls, latencies, strict=True):
            start = time.perf_counter()
            await call()
            seen.append(time.perf_counter() - start)
    return latencies


def report(label: str, latencies: list[float]) -> float:
    p50 = statistics.median(latencies) * 1000
    p99 = statistics.quantiles(latencies, n=100)[98] * 1000 if len(latencies) > 1 else p50
    print(f"  {label:<40} n={len(latencies):>6}   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    return p50


async def bench_engine(engine: str, args: argparse.Namespace, workdir: Path) -> None:
    database = await fresh_database(engine, workdir)
    server = Server(database.url, workers_for(engine, args), workdir)
    try:
        await server.wait_ready()
        base = f"http://127.0.0.1:{server.port}"
        async with AsyncCreditflow(server.token, base) as cf:
            customer = (await cf.customers.create(external_id=f"bench-{uuid.uuid4().hex[:6]}")).id
            await cf.credit_grants.create(customer=customer, amount="1000000", category="paid")
            key = (await cf.api_keys.create(customer, name="bench")).key
            guard = CreditGuard(cf, price="0.001")
            app = httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded_app(guard)), base_url="http://app")
            headers = {"x-api-key": key}

            async def free() -> None:
                assert (await app.get("/free")).status_code == 200

            async def paid() -> None:
                assert (await app.get("/paid", headers=headers)).status_code == 200

            async def pair() -> None:
                answer = await cf.authorize(api_key=key, amount="0.001")
                await cf.holds.capture(answer.hold_id, amount="0.001")

            print(f"\n{engine} ({database.durability}), one sequential client, {args.seconds:.0f} s, interleaved")
            await interleaved(1, [paid, pair])  # warm up connections and caches
            free_l, paid_l, pair_l = await interleaved(args.seconds, [free, paid, pair])
            free_p50 = report("route without the guard", free_l)
            paid_p50 = report("route behind CreditGuard", paid_l)
            report("authorize + capture through the SDK", pair_l)
            own = statistics.median(p - f - q for f, p, q in zip(free_l, paid_l, pair_l, strict=True)) * 1000
            print(f"  added per request (p50 guarded - p50 free): {paid_p50 - free_p50:.2f} ms, of which the guard's"
                  f" own work (median of guarded - free - pair, per turn): {own:.2f} ms")
            await app.aclose()
    finally:
        server.stop()


def main() -> None:
    args = arguments(__doc__, seconds=5, clients=1)
    asyncio.run(each_engine(args, bench_engine))


if __name__ == "__main__":
    main()
