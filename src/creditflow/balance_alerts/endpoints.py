"""PUT/GET/DELETE /v1/customers/{customer}/wallets/{currency}/low_balance: the wallet's low-balance alert."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from creditflow.balance_alerts import service
from creditflow.balance_alerts.schemas import BalanceAlertOut, BalanceAlertSet
from creditflow.http.deps import TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.money import Unit

router = APIRouter(
    prefix="/v1/customers/{customer}/wallets/{currency}/low_balance", tags=["wallets"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.put("", response_model=BalanceAlertOut)
async def set_low_balance_alert(customer: str, currency: Unit, body: BalanceAlertSet, tx: TxDep) -> BalanceAlertOut:
    """One wallet.low_balance webhook event and one email when the available balance falls below the threshold
    (checked by the job runner), re-armed when it climbs back; wallet.depleted likewise when nothing is left."""
    alert = await service.set_alert(
        tx, customer, currency, threshold=body.threshold, threshold_percent=body.threshold_percent
    )
    return BalanceAlertOut.of(alert)


@router.get("", response_model=BalanceAlertOut)
async def get_low_balance_alert(customer: str, currency: Unit, tx: TxDep) -> BalanceAlertOut:
    return BalanceAlertOut.of(await service.get_alert(tx, customer, currency))


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def delete_low_balance_alert(customer: str, currency: Unit, tx: TxDep) -> Response:
    await service.delete_alert(tx, customer, currency)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
