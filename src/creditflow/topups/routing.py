"""The route class of endpoints that call a payment gateway (open a top-up, verify, refund).

UnitOfWorkRoute runs a whole request in one transaction; these must not, since a gateway call is never
made with a transaction open (and on SQLite it would hold the process's one connection for up to the
gateway timeout). So this route authenticates the operator key and claims the Idempotency-Key in short
transactions of its own, lets the endpoint run its own transactions around the gateway call
(topups/context.py), and stores a successful answer for replay afterwards. Endpoints declare the bearer
scheme with `declare_bearer`, as the group-committed debit route does, since the key is checked here.

Storing the answer after the work leaves a window: a process that dies between the two frees the key when
its lease ends, and a retry runs again. Each endpoint is safe to run again: a retried top-up opens a second
order, but the first one's checkout link was never answered to anyone, so nobody can pay it, and it expires
(at the gateway too); a retried refund finds its refund pending and repeats the same gateway request (as
does the retry job); a retried verify applies a payment that credits once.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import Request, Response

from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.http import idempotency
from creditflow.http.errors import domain_error_response
from creditflow.http.unit_of_work import DecimalJSONRoute, Handler
from creditflow.keys.service import authenticate, permits, scope_forbidden

ACTOR_STATE = "operator_actor"


class GatewayCallRoute(DecimalJSONRoute):
    async def admit(self, request: Request) -> None:
        """Authenticate the operator key and check its scope (portal routes admit a customer instead)."""
        state = request.app.state
        async with state.engine.begin() as conn:
            tx = Tx(conn=conn, now=state.clock.now(), actor="anonymous")
            key = await authenticate(tx, idempotency.bearer_secret(request))
        if not permits(key.scopes, request.method, self.path):
            raise scope_forbidden(key.scopes, f"{request.method} {self.path}")
        setattr(request.state, ACTOR_STATE, key.actor)

    async def claim(self, request: Request, key: str, now: datetime) -> idempotency.Claim | idempotency.Replay | None:
        return await idempotency.claim_for_request(request, key, now)

    async def around(self, request: Request, handler: Handler) -> Response:
        state = request.app.state
        try:
            await self.admit(request)
            claimed = None
            if request.method == "POST" and (raw_key := request.headers.get("Idempotency-Key")) is not None:
                outcome = await self.claim(request, raw_key, state.clock.now())
                if isinstance(outcome, idempotency.Replay):
                    return idempotency.replay_response(outcome)
                claimed = outcome
        except DomainError as error:
            return domain_error_response(error)
        try:
            response = await handler(request)
        except BaseException:
            if claimed is not None:
                await idempotency.release(state.engine, claimed)
            raise
        if claimed is not None and response.status_code < 400:
            async with state.engine.begin() as conn:
                await idempotency.complete(conn, claimed, response.status_code, bytes(response.body))
        elif claimed is not None:
            await idempotency.release(state.engine, claimed)
        return response


def operator_actor(request: Request) -> str:
    """Who the route authenticated, for the operations the endpoint records."""
    return getattr(request.state, ACTOR_STATE)
