"""PUT/GET/DELETE /v1/customers/{customer}/wallets/{currency}/auto_topup, and the attempts it made."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from creditflow.auto_topups import repository, settings
from creditflow.auto_topups.schemas import AttemptOut, AutoTopupOut, AutoTopupSet
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.money import Unit
from creditflow.wallets.lookup import resolve_wallet

router = APIRouter(
    prefix="/v1/customers/{customer}/wallets/{currency}/auto_topup", tags=["wallets"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.put("", response_model=AutoTopupOut)
async def set_auto_topup(
    customer: str, currency: Unit, body: AutoTopupSet, tx: TxDep, config: SettingsDep, request: Request
) -> AutoTopupOut:
    """When the wallet's available balance falls below `threshold` (checked by the job runner), charge the
    customer's saved payment method off-session, or email a payment link from `link_gateway`; at most
    `max_per_day` in any 24 hours; a failure backs off (1 h, doubling, at most a day). auto_topup.succeeded and
    auto_topup.failed webhook events tell of each attempt. Setting it again starts afresh (no backoff)."""
    found = await settings.set_auto_topup(
        tx, config, request.app.state.gateways, customer, currency,
        settings.AutoTopupRequest(
            threshold=body.threshold, amount=body.amount, target_balance=body.target_balance,
            currency=body.currency, max_per_day=body.max_per_day, payment_method=body.payment_method,
            link_gateway=body.link_gateway,
        ),
    )
    return AutoTopupOut.of(found)


@router.get("", response_model=AutoTopupOut)
async def get_auto_topup(customer: str, currency: Unit, tx: TxDep) -> AutoTopupOut:
    return AutoTopupOut.of(await settings.get_auto_topup(tx, customer, currency))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_auto_topup(customer: str, currency: Unit, tx: TxDep) -> Response:
    await settings.delete_auto_topup(tx, customer, currency)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/attempts", response_model=Page[AttemptOut])
async def list_attempts(customer: str, currency: Unit, tx: TxDep, page: PageDep) -> Page[AttemptOut]:
    """The wallet's auto top-up attempts, newest first (also after auto top-up was turned off)."""
    ref = await resolve_wallet(tx, customer, currency)
    found = await repository.list_attempts(tx, ref.wallet_id, limit=page.fetch, starting_after=page.starting_after)
    return page_of([AttemptOut.of(a) for a in found], page.limit)
