"""Customer endpoints: thin, they parse, call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from creditflow.customers import service
from creditflow.customers.schemas import CustomerCreate, CustomerOut, CustomerUpdate
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/v1/customers", tags=["customers"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CustomerOut)
async def create_customer(body: CustomerCreate, tx: TxDep, settings: SettingsDep) -> CustomerOut:
    """Create a customer; its wallet in `currency` exists from creation."""
    currency = body.currency or settings.default_currency
    customer = await service.create_customer(
        tx, external_id=body.external_id, currency=currency,
        timezone=body.timezone, credit_limit=body.credit_limit, name=body.name, email=body.email,
        metadata=body.metadata, low_balance_threshold=settings.low_balance_thresholds.get(currency),
        net_terms_days=body.net_terms_days,
    )
    return CustomerOut.of(customer)


@router.get("", response_model=Page[CustomerOut])
async def list_customers(
    tx: TxDep, page: PageDep,
    email: Annotated[str | None, Query(description="Only customers with this email (any letter case).")] = None,
) -> Page[CustomerOut]:
    customers = await service.list_customers(tx, limit=page.fetch, starting_after=page.starting_after, email=email)
    return page_of([CustomerOut.of(c) for c in customers], page.limit)


@router.get("/{customer}", response_model=CustomerOut)
async def get_customer(customer: str, tx: TxDep) -> CustomerOut:
    """`customer` is the creditflow id or your external_id."""
    return CustomerOut.of(await service.get_customer(tx, customer))


@router.patch("/{customer}", response_model=CustomerOut)
async def update_customer(customer: str, body: CustomerUpdate, tx: TxDep) -> CustomerOut:
    changes = body.model_dump(exclude_unset=True)
    return CustomerOut.of(await service.update_customer(tx, customer, changes))
