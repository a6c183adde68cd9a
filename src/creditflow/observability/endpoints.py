"""GET /metrics: Prometheus text format, for an operator key with the 'all' scope or a listed network."""

from __future__ import annotations

import ipaddress
from functools import cache

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST

from creditflow.http.deps import TxDep
from creditflow.http.idempotency import bearer_secret
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.keys.service import ALL_SCOPES, authenticate, scope_forbidden
from creditflow.observability.backlog import backlog_gauges
from creditflow.observability.metrics import render

router = APIRouter(route_class=UnitOfWorkRoute, tags=["operations"])


@cache
def _networks(setting: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(part.strip(), strict=False) for part in setting.split(",") if part.strip())


def _open_to(client: str | None, setting: str) -> bool:
    if not client or not setting:
        return False
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in network for network in _networks(setting))


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition format."}},
)
async def metrics(request: Request, tx: TxDep) -> Response:
    """Every metric; scrapers in CREDITFLOW_METRICS_OPEN_TO need no key."""
    client = request.client.host if request.client else None
    if not _open_to(client, request.app.state.settings.metrics_open_to):
        key = await authenticate(tx, bearer_secret(request))
        if key.scopes != ALL_SCOPES:
            raise scope_forbidden(key.scopes, "GET /metrics")
    return Response(render(await backlog_gauges(tx)), media_type=CONTENT_TYPE_LATEST)
