"""Debit endpoints: spend now, read back, refund.

POST /v1/debits is the hot path: it goes through the process's group committer, so concurrent
debits share one transaction and one commit (see http/group_commit.py and ledger/spend.py).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response, status

from creditflow.debits.schemas import DebitCreate, DebitOut, RefundCreate, RefundOut, debit_document
from creditflow.http.deps import TxDep, require_operator, verify_operator
from creditflow.http.fast_path import validated
from creditflow.http.unit_of_work import DecimalJSONRoute, UnitOfWorkRoute
from creditflow.ledger import debits
from creditflow.ledger.models import DebitResult
from creditflow.ledger.spend import DebitRequest

router = APIRouter(prefix="/v1/debits", tags=["debits"], route_class=UnitOfWorkRoute, dependencies=[require_operator])
hot_router = APIRouter(prefix="/v1/debits", tags=["debits"], route_class=DecimalJSONRoute)


def render_debit(result: DebitResult) -> Response:
    """The DebitOut document, built without pydantic validation: this runs once per debit on the hot path.

    tests/debits/test_render.py holds it equal to DebitOut.of(result).
    """
    return Response(json.dumps(debit_document(result)), status_code=201, media_type="application/json")


def set_debit_actor(request: DebitRequest, actor: str) -> None:
    request.actor = actor


async def debit_fast_path(request: Request, document: object) -> Response | None:
    """POST /v1/debits without FastAPI's routing (see http/fast_path.py); None falls through to the route."""
    body = validated(DebitCreate, document)
    if body is None:
        return None
    return await request.app.state.debit_committer.submit(request, _debit_request(body))


def _debit_request(body: DebitCreate) -> DebitRequest:
    return DebitRequest(
        body.customer, body.amount, body.currency, body.description, body.metadata, api_key_id=body.api_key
    )


@hot_router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=DebitOut, dependencies=[verify_operator],
    responses={402: {"description": "insufficient_funds or budget_exceeded: nothing was written"}},
)
async def create_debit(body: DebitCreate, request: Request) -> Response:
    """Spend from the wallet now: lots by priority, then soonest expiry, then age; then the overdraft."""
    return await request.app.state.debit_committer.submit(request, _debit_request(body))


@router.get("/{debit_id}", response_model=DebitOut)
async def get_debit(debit_id: str, tx: TxDep) -> DebitOut:
    return DebitOut.of(await debits.get_debit(tx, debit_id))


@router.post("/{debit_id}/refund", status_code=status.HTTP_201_CREATED, response_model=RefundOut)
async def refund_debit(debit_id: str, tx: TxDep, body: RefundCreate | None = None) -> RefundOut:
    """Return (part of) a debit to the lots it came from; an ended lot's share goes to breakage."""
    return RefundOut.of(await debits.refund_debit(tx, debit_id, body.amount if body else None))
