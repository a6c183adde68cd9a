"""Every API request runs as one unit of work: one connection, one transaction, one commit.

A custom route class (rather than middleware) so the transaction wraps the endpoint *and* the
serialized response: the idempotent replay is stored in the same commit as the work it answers, and so is
the audit event of an operator's change (audit/recording.py).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import State

from creditflow.audit.recording import after_change, before_change
from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.http import idempotency
from creditflow.http.errors import domain_error_response
from creditflow.http.json_body import DecimalJSONRequest
from creditflow.http.url_values import check_url_values, declared_query

Handler = Callable[[Request], Awaitable[Response]]
Claimer = Callable[[Request, str, datetime], Awaitable["idempotency.Claim | idempotency.Replay | None"]]


class DecimalJSONRoute(APIRoute):
    """Routes whose JSON bodies are parsed exactly (numbers as Decimal) and whose URL values are checked."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Last of the route's own dependencies: after the router's authentication, before the endpoint's.
        dependencies = list(kwargs.get("dependencies") or [])
        if not any(d.dependency is check_url_values for d in dependencies):
            dependencies.append(Depends(check_url_values))
        super().__init__(path, endpoint, **{**kwargs, "dependencies": dependencies})
        self.declared_query = declared_query(self.dependant)

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            return await self.around(DecimalJSONRequest(request.scope, request.receive), handler)

        return run

    async def around(self, request: Request, handler: Handler) -> Response:
        return await handler(request)


class UnitOfWorkRoute(DecimalJSONRoute):
    """Routes that run in one transaction owned by the request (see run_unit_of_work)."""

    async def around(self, request: Request, handler: Handler) -> Response:
        return await run_unit_of_work(request, handler)


class _Refused(Exception):
    """The handler answered with an error response: roll back and send it as it is."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def run_unit_of_work(
    request: Request, handler: Handler, claimer: Claimer = idempotency.claim_for_request
) -> Response:
    state: State = request.app.state
    now = state.clock.now()
    claimed: idempotency.Claim | None = None
    key = request.headers.get("Idempotency-Key")
    if request.method == "POST" and key is not None:
        try:
            outcome = await claimer(request, key, now)
        except DomainError as error:
            return domain_error_response(error)
        if isinstance(outcome, idempotency.Replay):
            return idempotency.replay_response(outcome)
        claimed = outcome
    refused = False
    try:
        async with state.engine.connect() as conn:
            request.state.tx = Tx(conn=conn, now=now, actor="anonymous")
            try:
                async with conn.begin():
                    audited = await before_change(request, request.state.tx)
                    response = await handler(request)
                    if response.status_code >= 400:
                        if not getattr(request.state, "commit_refusal", False):
                            raise _Refused(response)
                        # A refusal that still keeps what it made (a customer created on first use): committed,
                        # never stored for replay.
                        refused = True
                    elif audited is not None:
                        await after_change(audited, request, request.state.tx, response)
                    if claimed is not None and not refused:
                        await idempotency.complete(conn, claimed, response.status_code, bytes(response.body))
            except _Refused as refusal:
                response, refused = refusal.response, True
    except BaseException:
        # Released only once the request's connection is back: SQLite runs on a single connection.
        if claimed is not None:
            await idempotency.release(state.engine, claimed)
        raise
    if refused and claimed is not None:
        await idempotency.release(state.engine, claimed)
    return response
