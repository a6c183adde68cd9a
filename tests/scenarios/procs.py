"""Fire API requests from several OS processes at once.

Each child process builds its own app (its own engine and connection pool) on the shared database,
waits at a barrier with the other children, then sends its share of the requests concurrently with
asyncio.gather: concurrency inside each process and across processes. Children report what they got
back through a queue.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import queue as queue_module
import traceback
from dataclasses import dataclass
from typing import Any

import httpx

from creditflow.app import create_app
from creditflow.config import Settings

BASE_URL = "http://creditflow.test"
START_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool


def fire_from_processes(
    database_url: str, operator_key: str, calls: list[Call], processes: int = 4, timeout: float = 120.0
) -> list[Answer]:
    """Spread `calls` over `processes` spawned children that all start firing together; every answer."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    shares = [calls[i::processes] for i in range(processes)]
    children = [
        context.Process(target=_child, args=(database_url, operator_key, share, barrier, results), daemon=True)
        for share in shares
    ]
    for child in children:
        child.start()
    answers: list[Answer] = []
    failures: list[str] = []
    try:
        for _ in children:
            try:
                kind, payload = results.get(timeout=timeout)
            except queue_module.Empty:
                failures.append(f"a child sent nothing within {timeout}s")
                break
            if kind == "error":
                failures.append(payload)
            else:
                answers.extend(Answer(**item) for item in payload)
    finally:
        for child in children:
            child.join(timeout=10)
            if child.is_alive():
                child.kill()
                child.join()
    assert not failures, "\n".join(failures)
    assert [child.exitcode for child in children] == [0] * processes
    assert len(answers) == len(calls)
    return answers


def _child(database_url: str, operator_key: str, share: list[Call], barrier: Any, results: Any) -> None:
    try:
        answers = asyncio.run(_fire(database_url, operator_key, share, barrier))
    except BaseException:
        barrier.abort()
        results.put(("error", traceback.format_exc()))
    else:
        results.put(("ok", answers))


async def _fire(database_url: str, operator_key: str, share: list[Call], barrier: Any) -> list[dict[str, Any]]:
    app = create_app(Settings(database_url=database_url, jobs_enabled=False))
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL,
            headers={"Authorization": f"Bearer {operator_key}"}, timeout=START_TIMEOUT,
        ) as client:
            # Open the connection pool before the start line, so the children really overlap.
            assert (await client.get("/health/ready")).status_code == 200
            await asyncio.to_thread(barrier.wait, START_TIMEOUT)
            responses = await asyncio.gather(
                *(client.post(call.path, json=call.body, headers=call.headers) for call in share)
            )
    finally:
        await app.state.engine.dispose()
    return [
        {"status": r.status_code, "body": r.json(), "replayed": r.headers.get("Idempotent-Replayed") == "true"}
        for r in responses
    ]
