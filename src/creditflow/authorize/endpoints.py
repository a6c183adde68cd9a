"""POST /v1/authorize: key, rate limit, budget, balance and a hold in one round trip."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from creditflow.authorize.schemas import AuthorizeAnswer, AuthorizeRequest
from creditflow.authorize.service import authorize as authorize_spend
from creditflow.customers.service import auto_create_customers
from creditflow.http.deps import SettingsDep, TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute

router = APIRouter(prefix="/v1", tags=["authorize"], route_class=UnitOfWorkRoute, dependencies=[require_operator])


@router.post("/authorize", response_model=AuthorizeAnswer)
async def authorize(
    body: AuthorizeRequest, tx: TxDep, settings: SettingsDep, request: Request, response: Response
) -> AuthorizeAnswer:
    """Before the work: may this key (or customer) spend `amount`? If so, a hold reserves it.

    Answers 200 either way: `allowed: true` with `hold_id`, or `allowed: false` with a `reason`
    (`insufficient_funds`, `budget_exceeded`, `rate_limited` with a Retry-After header, or `invalid_key`)
    and nothing written. Settle with `POST /v1/holds/{hold_id}/capture` and the real cost.
    """
    if body.customer is not None:
        # CREDITFLOW_AUTO_CREATE_CUSTOMERS: a customer unknown so far exists from here on, allowed or not.
        await auto_create_customers(tx, settings, {body.customer})
    result = await authorize_spend(
        tx, request.app.state.rate_limiter, api_key=body.api_key, customer=body.customer, amount=body.amount,
        unit=body.currency,
        expires_in=min(body.expires_in or settings.hold_default_expires_in, settings.hold_max_expires_in),
    )
    if result.retry_after is not None:
        response.headers["Retry-After"] = str(result.retry_after)
    return AuthorizeAnswer.of(result)
