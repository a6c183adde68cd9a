"""A minimal keep-alive HTTP/1.1 load generator on asyncio streams.

httpx costs several times more CPU per request than the server under test; on a 2-core machine that
would measure the client. This speaks just enough HTTP for creditflow's JSON API.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any


class Connection:
    def __init__(self, host: str, port: int, token: str) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None
        payload = json.dumps(body).encode() if body is not None else b""
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {self.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        )
        self.writer.write(head.encode() + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        data = await self.reader.readexactly(length) if length else b""
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    def record(self, status: int, latency: float) -> None:
        self.latencies.append(latency)
        self.statuses[status] = self.statuses.get(status, 0) + 1

    def summary(self, ops_per_iteration: int = 1) -> dict[str, float]:
        ordered = sorted(self.latencies)
        if not ordered:
            return {"ops_per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0}
        return {
            "ops_per_s": len(ordered) * ops_per_iteration / self.elapsed,
            "p50_ms": ordered[len(ordered) // 2] * 1000,
            "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000,
        }


Iteration = Callable[[Connection, int], Awaitable[int]]


async def drive(host: str, port: int, token: str, clients: int, seconds: float, iteration: Iteration) -> Result:
    """Run `iteration(connection, client_index)` in a loop on each client until time is up."""
    result = Result()
    connections = [Connection(host, port, token) for _ in range(clients)]
    await asyncio.gather(*(c.open() for c in connections))
    deadline = time.perf_counter() + seconds

    async def loop(index: int, connection: Connection) -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            status = await iteration(connection, index)
            result.record(status, time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(loop(i, c) for i, c in enumerate(connections)))
    result.elapsed = time.perf_counter() - started
    await asyncio.gather(*(c.close() for c in connections))
    return result
