"""A creditflow server really served (uvicorn in a thread, on a free port) for Lago's own client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from creditflow.app import create_app
from creditflow.clock import ManualClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from creditflow.ledger.check import find_discrepancies


@dataclass(frozen=True)
class Served:
    url: str
    operator_key: str
    clock: ManualClock
    settings: Settings

    def ledger_problems(self) -> list[str]:
        """What `creditflow check` finds wrong in the served database (nothing, or a bug)."""

        async def check() -> list[str]:
            engine = create_engine(self.settings, pooled=False)
            try:
                async with engine.begin() as conn:
                    return await find_discrepancies(Tx(conn=conn, now=self.clock.now(), actor="test"))
            finally:
                await engine.dispose()

        return asyncio.run(check())


async def _operator_key(settings: Settings) -> str:
    engine = create_engine(settings, pooled=False)
    try:
        async with engine.begin() as conn:
            _, secret = await create_key(Tx(conn=conn, now=ManualClock().now(), actor="test"), "lago")
    finally:
        await engine.dispose()
    return secret


@pytest.fixture
def served(database_url: str) -> Iterator[Served]:
    settings = Settings(database_url=database_url, jobs_enabled=False)
    key = asyncio.run(_operator_key(settings))
    clock = ManualClock()
    config = uvicorn.Config(
        create_app(settings, clock=clock), host="127.0.0.1", port=0, log_level="warning", lifespan="on",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("creditflow did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield Served(f"http://127.0.0.1:{port}/", key, clock, settings)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture
async def blocking_client(database_url: str, clock: ManualClock) -> AsyncIterator[httpx.AsyncClient]:
    """An API client of an app run with CREDITFLOW_LAGO_BLOCK_AT_ZERO=true."""
    settings = Settings(database_url=database_url, jobs_enabled=False, lago_block_at_zero=True)
    app = create_app(settings, clock=clock)
    async with app.state.engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=clock.now(), actor="test"), "test")
    headers = {"Authorization": f"Bearer {secret}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test", headers=headers
    ) as http:
        yield http
    await app.state.debit_committer.stop()
    await app.state.engine.dispose()
