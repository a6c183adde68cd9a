"""Transaction history endpoint."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from creditflow.customers.service import get_customer
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.http.url_values import QueryTimestamp
from creditflow.ledger.history import list_operations
from creditflow.transactions.schemas import TransactionOut

router = APIRouter(
    prefix="/v1/transactions", tags=["transactions"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.get("", response_model=Page[TransactionOut], response_model_by_alias=True)
async def list_transactions(
    tx: TxDep,
    page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    since: Annotated[QueryTimestamp | None, Query(alias="from", description="RFC 3339, inclusive.")] = None,
    until: Annotated[QueryTimestamp | None, Query(alias="to", description="RFC 3339, exclusive.")] = None,
    kind: Annotated[
        str | None, Query(max_length=20, description="Only this kind: grant, debit, hold, capture, refund, ...")
    ] = None,
) -> Page[TransactionOut]:
    """Operations newest first, each with its double-entry transfers."""
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await list_operations(
        tx, customer_id=customer_id, limit=page.fetch, starting_after=page.starting_after,
        since=since, until=until, kind=kind,
    )
    return page_of([TransactionOut.of(op) for op in found], page.limit)
