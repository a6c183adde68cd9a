"""FastAPI dependencies: the request's transaction, the authenticated operator (and its scope), pagination."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.keys.service import OperatorKey, authenticate, permits, scope_forbidden

_bearer = HTTPBearer(auto_error=False, description="An operator key: `creditflow keys create --name NAME`.")


# Plain functions would be run in a worker thread by FastAPI, a thread hop per request for an attribute read.
async def _tx(request: Request) -> Tx:
    return request.state.tx


async def _operator(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> OperatorKey:
    tx: Tx = request.state.tx
    key = await authenticate(tx, credentials.credentials if credentials else None)
    # Scopes are checked against the matched route's template (/v1/holds/{hold_id}/capture), not the raw path.
    path = getattr(request.scope.get("route"), "path", request.url.path)
    if not permits(key.scopes, request.method, path):
        raise scope_forbidden(key.scopes, f"{request.method} {path}")
    tx.actor = key.actor
    return key


async def _settings(request: Request) -> Settings:
    return request.app.state.settings


TxDep = Annotated[Tx, Depends(_tx)]
OperatorDep = Annotated[OperatorKey, Depends(_operator)]
SettingsDep = Annotated[Settings, Depends(_settings)]
require_operator = Depends(_operator)
# Documents the bearer scheme on routes that verify keys themselves (the group-committed hot path).
declare_bearer = Depends(_bearer)


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


PageDep = Annotated[PageParams, Depends()]
