"""Debit endpoints: spend now, read back, refund.

POST /v1/debits is the hot path: it goes through the process's group committer, so concurrent
debits share one transaction and one commit (see http/group_commit.py and ledger/spend.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status

from creditflow.debits.schemas import DebitCreate, DebitOut, RefundCreate, RefundOut
from creditflow.http.deps import TxDep, declare_bearer, require_operator
from creditflow.http.unit_of_work import DecimalJSONRoute, UnitOfWorkRoute
from creditflow.ledger import debits
from creditflow.ledger.models import DebitResult
from creditflow.ledger.spend import DebitRequest

router = APIRouter(prefix="/v1/debits", tags=["debits"], route_class=UnitOfWorkRoute, dependencies=[require_operator])
hot_router = APIRouter(prefix="/v1/debits", tags=["debits"], route_class=DecimalJSONRoute)


def render_debit(result: DebitResult) -> Response:
    return Response(DebitOut.of(result).model_dump_json(), status_code=201, media_type="application/json")


def set_debit_actor(request: DebitRequest, actor: str) -> None:
    request.actor = actor


@hot_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DebitOut, dependencies=[declare_bearer],
    responses={402: {"description": "insufficient_funds: nothing was written"}},
)
async def create_debit(body: DebitCreate, request: Request) -> Response:
    """Spend from the wallet now: lots by priority, then soonest expiry, then age; then the overdraft."""
    item = DebitRequest(body.customer, body.amount, body.currency, body.description, body.metadata)
    return await request.app.state.debit_committer.submit(request, item)


@router.get("/{debit_id}", response_model=DebitOut)
async def get_debit(debit_id: str, tx: TxDep) -> DebitOut:
    return DebitOut.of(await debits.get_debit(tx, debit_id))


@router.post("/{debit_id}/refund", status_code=status.HTTP_201_CREATED, response_model=RefundOut)
async def refund_debit(debit_id: str, tx: TxDep, body: RefundCreate | None = None) -> RefundOut:
    """Return (part of) a debit to the lots it came from; an ended lot's share goes to breakage."""
    return RefundOut.of(await debits.refund_debit(tx, debit_id, body.amount if body else None))
