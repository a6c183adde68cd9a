"""Debit endpoints: spend now, read back, refund."""

from __future__ import annotations

from fastapi import APIRouter, status

from creditflow.debits.schemas import DebitCreate, DebitOut, RefundCreate, RefundOut
from creditflow.http.deps import TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.ledger import debits

router = APIRouter(
    prefix="/v1/debits", tags=["debits"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DebitOut,
    responses={402: {"description": "insufficient_funds: nothing was written"}},
)
async def create_debit(body: DebitCreate, tx: TxDep) -> DebitOut:
    """Spend from the wallet now: lots by priority, then soonest expiry, then age; then the overdraft."""
    result = await debits.debit(
        tx, customer=body.customer, amount=body.amount, unit=body.currency, description=body.description,
        metadata=body.metadata,
    )
    return DebitOut.of(result)


@router.get("/{debit_id}", response_model=DebitOut)
async def get_debit(debit_id: str, tx: TxDep) -> DebitOut:
    return DebitOut.of(await debits.get_debit(tx, debit_id))


@router.post("/{debit_id}/refund", status_code=status.HTTP_201_CREATED, response_model=RefundOut)
async def refund_debit(debit_id: str, tx: TxDep, body: RefundCreate | None = None) -> RefundOut:
    """Return (part of) a debit to the lots it came from; an ended lot's share goes to breakage."""
    return RefundOut.of(await debits.refund_debit(tx, debit_id, body.amount if body else None))
