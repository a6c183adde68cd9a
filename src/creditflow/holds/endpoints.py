"""Hold endpoints: reserve, capture, void, read."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from creditflow.customers.service import get_customer
from creditflow.holds.schemas import CaptureCreate, CaptureOut, HoldCreate, HoldOut
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.ledger import holds

router = APIRouter(
    prefix="/v1/holds", tags=["holds"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=HoldOut,
    responses={402: {"description": "insufficient_funds or budget_exceeded: nothing was written"}},
)
async def create_hold(body: HoldCreate, tx: TxDep, settings: SettingsDep) -> HoldOut:
    """Reserve an amount now on specific lots; capture the real cost later."""
    hold = await holds.create_hold(
        tx, customer=body.customer, amount=body.amount, unit=body.currency,
        expires_in=min(body.expires_in or settings.hold_default_expires_in, settings.hold_max_expires_in),
        description=body.description, metadata=body.metadata, api_key_id=body.api_key,
    )
    return HoldOut.of(hold)


@router.get("", response_model=Page[HoldOut])
async def list_holds(
    tx: TxDep,
    page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    status: Literal["active", "captured", "voided", "expired"] | None = None,
) -> Page[HoldOut]:
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await holds.list_holds(
        tx, customer_id=customer_id, status=status, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([HoldOut.of(h) for h in found], page.limit)


@router.get("/{hold_id}", response_model=HoldOut)
async def get_hold(hold_id: str, tx: TxDep) -> HoldOut:
    return HoldOut.of(await holds.get_hold(tx, hold_id))


@router.post(
    "/{hold_id}/capture", response_model=CaptureOut,
    responses={402: {"description": "the excess beyond the hold is not covered by the balance or a budget"},
               409: {"description": "hold_expired or hold_not_active"}},
)
async def capture_hold(hold_id: str, tx: TxDep, body: CaptureCreate | None = None) -> CaptureOut:
    """Capture the real cost. Within the reserved amount it never fails; repeat with final=false."""
    body = body or CaptureCreate()
    return CaptureOut.of(await holds.capture_hold(tx, hold_id, body.amount, final=body.final))


@router.post("/{hold_id}/void", response_model=HoldOut)
async def void_hold(hold_id: str, tx: TxDep) -> HoldOut:
    """Release what the hold still reserves."""
    return HoldOut.of(await holds.void_hold(tx, hold_id))
