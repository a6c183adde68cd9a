"""The outermost ASGI layer: a request id on every request and response, and the HTTP metrics.

It wraps the fast path too, so group-committed debits are counted and answered with X-Request-Id like
every other route. Per request it does a header scan, two clock reads and two cached metric updates.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow.observability import metrics
from creditflow.observability.logs import request_id

HEADER = b"x-request-id"
MAX_ID_LENGTH = 128
_REPLAYED = b"idempotent-replayed"
# Requests no route matched share one label, so a scanner cannot grow the label set without bound.
UNMATCHED = "unmatched"


# A new id is this process's random prefix and a counter: unique across processes, cheaper than urandom each time.
_PREFIX = os.urandom(6).hex()
_SEQUENCE = itertools.count(1)


def new_id() -> str:
    return f"{_PREFIX}{next(_SEQUENCE):012x}"


def accepted_id(value: bytes) -> str | None:
    """A caller's id, if it is short printable ASCII (it is echoed in headers and logs)."""
    if 0 < len(value) <= MAX_ID_LENGTH and value.isascii():
        text = value.decode()
        if text.isprintable() and " " not in text:
            return text
    return None


class Observe:
    def __init__(self, app: ASGIApp, exact_route: Callable[[str, str], bool]) -> None:
        self.app = app
        # Routes answered before FastAPI's routing (the fast path): their label is their exact path.
        self._exact_route = exact_route
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = None
        for name, value in scope["headers"]:
            if name == HEADER:
                rid = accepted_id(value)
                break
        rid = rid or new_id()
        token = request_id.set(rid)
        started = time.perf_counter()
        status = 500
        id_header = (HEADER, rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if any(name == _REPLAYED for name, _ in headers):
                    metrics.idempotency_replays.inc()
                headers.append(id_header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id.reset(token)
            self._record(scope, status, time.perf_counter() - started)

    def _record(self, scope: Scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        method = scope["method"]
        if route is not None:
            template = route.path
        elif self._exact_route(method, scope["path"]):
            template = scope["path"]
        else:
            template = UNMATCHED
        key = (method, template, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (
                metrics.http_requests.labels(method, template, str(status)),
                metrics.http_latency.labels(method, template),
            )
        children[0].inc()
        children[1].observe(seconds)
