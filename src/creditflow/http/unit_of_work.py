"""Every API request runs as one unit of work: one connection, one transaction, one commit.

A custom route class (rather than middleware) so the transaction wraps the endpoint *and* the
serialized response: the idempotent replay is stored in the same commit as the work it answers.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from fastapi import Request, Response
from fastapi.routing import APIRoute
from starlette.datastructures import State

from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.http import idempotency
from creditflow.http.errors import domain_error_response
from creditflow.http.json_body import DecimalJSONRequest, loads

Handler = Callable[[Request], Awaitable[Response]]
REPLAY_HEADER = "Idempotent-Replayed"


class UnitOfWorkRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            return await run_unit_of_work(DecimalJSONRequest(request.scope, request.receive), handler)

        return run


class _Refused(Exception):
    """The handler answered with an error response: roll back and send it as it is."""

    def __init__(self, response: Response) -> None:
        self.response = response


async def run_unit_of_work(request: Request, handler: Handler) -> Response:
    state: State = request.app.state
    now = state.clock.now()
    claimed: idempotency.Claim | None = None
    key = request.headers.get("Idempotency-Key")
    if request.method == "POST" and key is not None:
        try:
            outcome = await _claim(request, state, key, now)
        except DomainError as error:
            return domain_error_response(error)
        if isinstance(outcome, idempotency.Replay):
            return Response(
                outcome.body, status_code=outcome.status, media_type="application/json",
                headers={REPLAY_HEADER: "true"},
            )
        claimed = outcome
    refused = False
    try:
        async with state.engine.connect() as conn:
            request.state.tx = Tx(conn=conn, now=now, actor="anonymous")
            try:
                async with conn.begin():
                    response = await handler(request)
                    if response.status_code >= 400:
                        raise _Refused(response)
                    if claimed is not None:
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


async def _claim(
    request: Request, state: State, key: str, now: datetime
) -> idempotency.Claim | idempotency.Replay | None:
    idempotency.validate_key(key)
    body = await request.body()
    try:
        document = loads(body) if body else None
    except ValueError:
        return None  # not JSON: the handler answers 400 and nothing is stored
    settings = state.settings
    return await idempotency.claim(
        state.engine,
        idempotency.request_scope(request.headers.get("Authorization"), request.method, request.url.path),
        key,
        idempotency.request_fingerprint(document, request.url.query),
        now,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
    )
