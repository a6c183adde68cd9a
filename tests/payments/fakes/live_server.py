"""A real HTTP server for a fake gateway: an ASGI app under uvicorn in a thread, on a free port.

FakeGateway adds what every fake needs: a request log, and failure injection (the next N requests
answer a given status, or stall) so tests can drive the adapters' transient-failure paths.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send


@dataclass(frozen=True)
class Notification:
    """A webhook exactly as the gateway would POST it: raw body bytes and headers."""

    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class _Failure:
    status: int
    body: bytes
    content_type: str
    stall: float
    after: bool = False
    """Carry the request out first, then answer with the failure instead (the answer was lost on the way)."""


class FakeGateway:
    """Base of the fakes: subclasses list their routes; `with Fake() as fake:` serves them on fake.url."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.lock = threading.RLock()
        self.requests: list[tuple[str, str]] = []
        self.outbox: list[Notification] = []
        self._failures: list[_Failure] = []
        self._inner = Starlette(routes=self.routes())
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def routes(self) -> list[Route]:
        raise NotImplementedError

    def fail_next(
        self, status: int = 503, body: Any = None, *, times: int = 1, content_type: str = "application/json"
    ) -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body if body is not None else {}).encode()
        with self.lock:
            self._failures.extend(_Failure(status, raw, content_type, 0.0) for _ in range(times))

    def lose_next_answer(self, status: int = 502, body: Any = None) -> None:
        """The next request is carried out, but its answer is replaced by this failure (the connection broke)."""
        raw = json.dumps(body if body is not None else {}).encode()
        with self.lock:
            self._failures.append(_Failure(status, raw, "application/json", 0.0, after=True))

    def stall_next(self, seconds: float) -> None:
        """The next request waits `seconds` before it is served: longer than the client's timeout."""
        with self.lock:
            self._failures.append(_Failure(0, b"", "", seconds))

    def emit(self, notification: Notification) -> Notification:
        with self.lock:
            self.outbox.append(notification)
        return notification

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            with self.lock:
                self.requests.append((scope["method"], scope["path"]))
                failure = self._failures.pop(0) if self._failures else None
            if failure and failure.stall:
                await asyncio.sleep(failure.stall)
            elif failure and failure.after:

                async def swallow(message: Any) -> None:
                    return None

                await self._inner(scope, receive, swallow)
                await Response(failure.body, failure.status, media_type=failure.content_type)(scope, receive, send)
                return
            elif failure:
                await Response(failure.body, failure.status, media_type=failure.content_type)(scope, receive, send)
                return
        await self._inner(scope, receive, send)

    def __enter__(self) -> FakeGateway:
        config = uvicorn.Config(
            self, host="127.0.0.1", port=0, log_level="warning", lifespan="off", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the fake gateway server did not start")
            time.sleep(0.01)
        port = self._server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None and self._thread is not None
        self._server.should_exit = True
        self._thread.join(timeout=10)


def closed_port_url() -> str:
    """An address where nothing listens: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def read_json(request: Request) -> Any:
    return json.loads(await request.body() or b"{}")
