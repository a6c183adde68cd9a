"""FastAPI dependencies: the request's transaction, the authenticated operator (and its scope), pagination."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import State

from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.http.idempotency import bearer_secret
from creditflow.http.schemas import Page, page_of
from creditflow.keys.service import OperatorKey, authenticate, permits, scope_forbidden

T = TypeVar("T")

_bearer = HTTPBearer(auto_error=False, description="An operator key: `creditflow keys create --name NAME`.")


# Plain functions would be run in a worker thread by FastAPI, a thread hop per request for an attribute read.
async def _tx(request: Request) -> Tx:
    return request.state.tx


async def _checked_key(tx: Tx, request: Request) -> OperatorKey:
    key = await authenticate(tx, bearer_secret(request))
    # Scopes are checked against the matched route's template (/v1/holds/{hold_id}/capture), not the raw path.
    path = getattr(request.scope.get("route"), "path", request.url.path)
    if not permits(key.scopes, request.method, path):
        raise scope_forbidden(key.scopes, f"{request.method} {path}")
    return key


async def _operator(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> OperatorKey:
    # The header is read by bearer_secret, the one parser every route shares; _bearer only documents it.
    tx: Tx = request.state.tx
    key = await _checked_key(tx, request)
    tx.actor = key.actor
    return key


async def _operator_own_tx(
    request: Request, _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> OperatorKey:
    """For routes without a request transaction (the group-committed debit route): a short one of its own."""
    state: State = request.app.state
    async with state.engine.connect() as conn:
        return await _checked_key(Tx(conn=conn, now=state.clock.now(), actor="anonymous"), request)


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


TxDep = Annotated[Tx, Depends(_tx)]
OperatorDep = Annotated[OperatorKey, Depends(_operator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
require_operator = Depends(_operator)
# Documents the bearer scheme on routes that verify keys themselves (gateway calls).
declare_bearer = Depends(_bearer)
# Authenticates before the body is validated on a route that has no request transaction.
verify_operator = Depends(_operator_own_tx)


class PageParams:
    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=100, description="Items per page, newest first.")] = 20,
        starting_after: Annotated[
            str | None, Query(description="Cursor: the id of the last item of the previous page.")
        ] = None,
    ) -> None:
        self.limit = limit
        self.starting_after = starting_after

    @property
    def fetch(self) -> int:
        """One more than asked, to learn whether another page exists."""
        return self.limit + 1

    def of(self, items: list[T], id_of: Callable[[T], str]) -> Page[T]:
        """This page of a list that is read whole (a customer's wallets, the webhook event types)."""
        ids = [id_of(item) for item in items]
        if self.starting_after is not None:
            items = items[ids.index(self.starting_after) + 1:] if self.starting_after in ids else []
        return page_of(items[: self.fetch], self.limit)


PageDep = Annotated[PageParams, Depends()]
