"""Credit grant endpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from creditflow.customers.service import get_customer
from creditflow.grants.schemas import GrantCreate, GrantOut
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.ledger import grants

router = APIRouter(
    prefix="/v1/credit_grants", tags=["credit grants"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=GrantOut)
async def create_grant(body: GrantCreate, tx: TxDep) -> GrantOut:
    """Add a credit lot to the customer's wallet. It repays any overdraft first."""
    grant = await grants.grant_credits(
        tx, customer=body.customer, amount=body.amount, unit=body.currency, category=body.category,
        priority=body.priority, expires_at=body.expires_at,
        cost_amount=body.cost.amount if body.cost else None, cost_unit=body.cost.currency if body.cost else None,
        description=body.description, metadata=body.metadata,
    )
    return GrantOut.of(grant)


@router.get("", response_model=Page[GrantOut])
async def list_grants(
    tx: TxDep, page: PageDep, customer: Annotated[str | None, Query(description="Id or external_id.")] = None
) -> Page[GrantOut]:
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await grants.list_grants(
        tx, customer_id=customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([GrantOut.of(g) for g in found], page.limit)


@router.get("/{grant_id}", response_model=GrantOut)
async def get_grant(grant_id: str, tx: TxDep) -> GrantOut:
    return GrantOut.of(await grants.get_grant(tx, grant_id))


@router.post("/{grant_id}/void", response_model=GrantOut)
async def void_grant(grant_id: str, tx: TxDep) -> GrantOut:
    """Void the unheld remainder; a part held by a hold goes to breakage when the hold releases it."""
    return GrantOut.of(await grants.void_grant(tx, grant_id))
