"""A lean front door for the group-committed hot paths (POST /v1/debits, POST /v1/events/batch).

FastAPI's routing, dependency solving and response validation cost about as much CPU as the debit
itself. This middleware serves only the common case: a JSON body that parses and validates. It
builds the same request object and hands it to the same group committer as the FastAPI route.
Anything else (invalid JSON, a validation error, another content type) falls through, body intact,
to the FastAPI route, which answers it exactly as every other endpoint would; that route is also
what /docs describes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow.http.errors import error_response
from creditflow.http.json_body import loads

log = logging.getLogger("creditflow.http")

# Bodies above this (or of unknown length) take the regular route: the fast path buffers whole bodies.
MAX_FAST_BODY = 64 * 1024

# Turns a parsed JSON body into a response, or returns None when it does not validate.
FastHandler = Callable[[Request, Any], Awaitable[Response | None]]

# Handlers a domain package registers when it is imported (see register), served in addition to the
# routes the app passes in, so a new hot path needs no change to the app factory.
_REGISTERED: dict[tuple[str, str], FastHandler] = {}


def register(method: str, path: str, handler: FastHandler) -> None:
    """Serve `method path` (an exact path, no parameters) through `handler` in every app."""
    _REGISTERED[(method, path)] = handler


class FastPath:
    """Outermost ASGI layer: serves the routes it knows in their common case, passes on everything else."""

    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], FastHandler]) -> None:
        self.app = app
        self.routes = routes

    def serves(self, method: str, path: str) -> bool:
        """Whether this layer has a handler for `method path`."""
        return (method, path) in self.routes or (method, path) in _REGISTERED

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = None
        if scope["type"] == "http":
            key = (scope.get("method", ""), scope.get("path", ""))
            handler = self.routes.get(key) or _REGISTERED.get(key)
        # A query string is not part of these routes: the FastAPI route refuses it by name.
        if handler is None or scope.get("query_string") or not _is_small_json(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        try:
            document = loads(body)
        except ValueError:
            document = None
        try:
            response = await handler(request, document) if document is not None else None
        except Exception:
            # Outside FastAPI's error middleware, so the same last-resort answer is given here.
            log.exception("unhandled error on the fast path")
            response = error_response(500, "internal_error", "an unexpected error occurred; nothing was changed")
        if response is None:
            await self.app(scope, _replay(body), send)
            return
        await response(scope, receive, send)


def _is_small_json(scope: Scope) -> bool:
    json_type = False
    length = None
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            json_type = value.split(b";")[0].strip().lower() == b"application/json"
        elif name == b"content-length" and value.isdigit():
            length = int(value)
    return json_type and length is not None and length <= MAX_FAST_BODY


def _replay(body: bytes) -> Receive:
    """A receive channel that yields the already-read body again, for the fall-through route."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def validated(model: type[Any], document: Any) -> Any | None:
    """The document as `model`, or None so the FastAPI route can answer with the full error."""
    try:
        return model.model_validate(document)
    except ValidationError:
        return None
