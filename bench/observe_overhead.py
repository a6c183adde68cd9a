"""CPU cost per request of the request-id and metrics layer (http/observe.py), measured in-process.

Drives a trivial ASGI app N times bare and N times wrapped by Observe, alternating rounds so machine
load hits both alike, and prints microseconds per request for each and the difference. No network and no
database: the figure is the layer's own cost, which the HTTP benchmarks cannot resolve on a busy machine.

    python bench/observe_overhead.py [--requests 20000] [--rounds 5]

Prints figures; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
from creditflow.http.observe import Observe

SCOPE_HEADERS = [(b"host", b"creditflow"), (b"content-type", b"application/json"), (b"content-length", b"40"),
                 (b"authorization", b"Bearer cf_sk_x"), (b"idempotency-key", b"k-1")]


async def app(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 201, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b"{}"})


async def receive() -> dict:
    return {"type": "http.request", "body": b"{}", "more_body": False}


async def send(_message: dict) -> None:
    return None


async def per_request(target, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        scope = {"type": "http", "method": "POST", "path": "/v1/debits", "headers": list(SCOPE_HEADERS)}
        await target(scope, receive, send)
    return (time.perf_counter() - started) / requests * 1e6


async def main(requests: int, rounds: int) -> None:
    observed = Observe(app, lambda method, path: True)
    bare, wrapped = [], []
    for _ in range(rounds):
        bare.append(await per_request(app, requests))
        wrapped.append(await per_request(observed, requests))
    b, w = statistics.median(bare), statistics.median(wrapped)
    print(f"bare ASGI app:        {b:7.2f} us/request (median of {rounds} rounds of {requests})")
    print(f"behind Observe:       {w:7.2f} us/request")
    print(f"Observe's own cost:   {w - b:7.2f} us/request")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.rounds))
