"""A lean front door for the group-committed hot path (POST /v1/debits).

FastAPI's routing, dependency solving and response validation cost about as much CPU as the debit
itself. This middleware serves only the common case: a JSON body that parses and validates. It
builds the same request object and hands it to the same group committer as the FastAPI route.
Anything else (invalid JSON, a validation error, another content type) falls through, body intact,
to the FastAPI route, which answers it exactly as every other endpoint would; that route is also
what /docs describes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow.http.json_body import loads

# Turns a parsed JSON body into a response, or returns None when it does not validate.
FastHandler = Callable[[Request, Any], Awaitable[Response | None]]


class FastPath:
    def __init__(self, app: ASGIApp, routes: dict[tuple[str, str], FastHandler]) -> None:
        self.app = app
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        handler = self.routes.get((scope.get("method", ""), scope.get("path", ""))) if scope["type"] == "http" else None
        if handler is None or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        body = await request.body()
        try:
            document = loads(body)
        except ValueError:
            document = None
        response = await handler(request, document) if document is not None else None
        if response is None:
            await self.app(scope, _replay(body), send)
            return
        await response(scope, receive, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", ()):
        if name == b"content-type":
            return value.split(b";")[0].strip().lower() == b"application/json"
    return False


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
