"""Customer API key endpoints: create (the secret shown once), list, revoke; and verify for gateways."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from creditflow.apikeys import service
from creditflow.apikeys.schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyOut, VerifyInvalid, VerifyRequest, VerifyValid
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/v1/customers/{customer}/api_keys", tags=["api keys"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)
verify_router = APIRouter(
    prefix="/v1/api_keys", tags=["api keys"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(customer: str, body: ApiKeyCreate, tx: TxDep) -> ApiKeyCreated:
    """Create a key for the customer. `key` is the secret, shown in this answer only (a replay redacts it)."""
    rate_limit = (body.rate_limit.requests, body.rate_limit.per) if body.rate_limit else None
    key, secret = await service.create_api_key(
        tx, customer, name=body.name, expires_at=body.expires_at, rate_limit=rate_limit, scopes=tuple(body.scopes)
    )
    return ApiKeyCreated.created(key, secret, tx.now)


@router.get("", response_model=Page[ApiKeyOut])
async def list_api_keys(customer: str, tx: TxDep, page: PageDep) -> Page[ApiKeyOut]:
    """The customer's keys, never their secrets."""
    keys = await service.list_api_keys(tx, customer, limit=page.fetch, starting_after=page.starting_after)
    return page_of([ApiKeyOut.of(k, tx.now) for k in keys], page.limit)


@router.post("/{api_key_id}/revoke", response_model=ApiKeyOut)
async def revoke_api_key(customer: str, api_key_id: str, tx: TxDep) -> ApiKeyOut:
    """Revoke a key: verify answers `valid: false` for it from now on."""
    return ApiKeyOut.of(await service.revoke_api_key(tx, customer, api_key_id), tx.now)


@verify_router.post(
    "/verify", response_model=VerifyValid | VerifyInvalid,
    responses={429: {"description": "rate_limited: the key is over its rate limit; see Retry-After"}},
)
async def verify_api_key(body: VerifyRequest, tx: TxDep, request: Request) -> VerifyValid | VerifyInvalid:
    """One call per request for an API gateway: is the key valid, whose is it, what can they spend.

    An unknown, revoked or expired key answers 200 `{valid: false, reason: "invalid_key"}`.
    """
    verified = await service.verify(tx, request.app.state.rate_limiter, body.key)
    return VerifyInvalid() if verified is None else VerifyValid.of(verified)
