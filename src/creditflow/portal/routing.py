"""The route classes of /v1/portal: authenticate the customer first, then run the request.

A portal write is admitted only with the right credential (a read-only customer key may not change
anything), and, when it rides on a session cookie, with a same-origin CSRF token, since a browser sends
cookies to any site that asks. Its Idempotency-Key is scoped by customer, method and path. Routes that call
a payment gateway (top-ups) run without a request transaction, like topups/routing.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import Request, Response

from creditflow.db.tx import Tx
from creditflow.errors import DomainError, Forbidden, InvalidRequest
from creditflow.http import idempotency
from creditflow.http.errors import domain_error_response
from creditflow.http.json_body import loads
from creditflow.http.unit_of_work import DecimalJSONRoute, Handler, run_unit_of_work
from creditflow.portal import service
from creditflow.portal.models import Principal
from creditflow.topups.routing import ACTOR_STATE, GatewayCallRoute
from creditflow.web.csrf import HEADER, check_csrf
from creditflow.web.sessions import COOKIE_NAME

PRINCIPAL_STATE = "portal_principal"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def admit(request: Request) -> Principal:
    """The request's customer, checked for what a write needs; raises a DomainError otherwise."""
    state = request.app.state
    settings = state.settings
    async with state.engine.begin() as conn:
        tx = Tx(conn=conn, now=state.clock.now(), actor="anonymous")
        principal = await service.authenticate(
            tx, settings, idempotency.bearer_secret(request), request.cookies.get(COOKIE_NAME)
        )
    if request.method not in SAFE_METHODS:
        if not principal.can_manage:
            raise Forbidden(
                "this customer API key is read-only on /v1/portal; create it with the 'manage' scope to make changes"
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if await request.body() and content_type != "application/json":
            raise InvalidRequest("send a JSON body with Content-Type: application/json", param="Content-Type")
        if principal.from_cookie:
            assert principal.session is not None
            check_csrf(request, settings, principal.session.csrf_token, request.headers.get(HEADER))
    setattr(request.state, PRINCIPAL_STATE, principal)
    return principal


async def _claim(request: Request, key: str, now: datetime) -> idempotency.Claim | idempotency.Replay | None:
    principal: Principal = getattr(request.state, PRINCIPAL_STATE)
    idempotency.validate_key(key)
    body = await request.body()
    try:
        document = loads(body) if body else None
    except ValueError:
        return None
    settings = request.app.state.settings
    return await idempotency.claim(
        request.app.state.engine,
        idempotency.request_scope(f"portal:{principal.customer_id}", request.method, request.url.path),
        key, idempotency.request_fingerprint(document, request.url.query), now,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
        ttl=timedelta(hours=settings.idempotency_ttl_hours), key_hash=None,
    )


class PortalRoute(DecimalJSONRoute):
    async def around(self, request: Request, handler: Handler) -> Response:
        try:
            await admit(request)
        except DomainError as error:
            return domain_error_response(error)
        return await run_unit_of_work(request, handler, claimer=_claim)


class PortalGatewayRoute(GatewayCallRoute):
    """No request transaction: the endpoint opens short ones around its gateway call."""

    async def admit(self, request: Request) -> None:
        principal = await admit(request)
        setattr(request.state, ACTOR_STATE, f"customer:{principal.customer_id}")

    async def claim(self, request: Request, key: str, now: datetime) -> idempotency.Claim | idempotency.Replay | None:
        return await _claim(request, key, now)


def principal_of(request: Request) -> Principal:
    return getattr(request.state, PRINCIPAL_STATE)
