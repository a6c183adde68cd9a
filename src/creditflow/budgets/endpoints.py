"""Budget endpoints (create, read, change, archive) and the alerts their crossings raise."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from creditflow.budgets import service
from creditflow.budgets.schemas import AlertOut, BudgetCreate, BudgetOut, BudgetUpdate
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/v1/budgets", tags=["budgets"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
alerts_router = APIRouter(
    prefix="/v1/alerts", tags=["budgets"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=BudgetOut)
async def create_budget(body: BudgetCreate, tx: TxDep) -> BudgetOut:
    """Cap what a customer (or one of its API keys) spends per calendar period in one wallet.

    Debits, holds, captures and events count against it in the same transaction; with action `block`
    a spend that would go past the amount is refused with 402 `budget_exceeded`.
    """
    budget = await service.create_budget(
        tx, customer=body.customer, api_key=body.api_key, amount=body.amount, unit=body.currency,
        period=body.period, timezone=body.timezone, thresholds=body.thresholds, action=body.action,
    )
    return BudgetOut.of(budget)


@router.get("", response_model=Page[BudgetOut])
async def list_budgets(
    tx: TxDep,
    page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    api_key: Annotated[str | None, Query(description="A customer API key id.")] = None,
    status: Literal["active", "archived"] | None = None,
) -> Page[BudgetOut]:
    found = await service.list_budgets(
        tx, customer=customer, api_key=api_key, status=status, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([BudgetOut.of(b) for b in found], page.limit)


@router.get("/{budget_id}", response_model=BudgetOut)
async def get_budget(budget_id: str, tx: TxDep) -> BudgetOut:
    """The budget with its current period: spent, reserved by active holds, and what remains."""
    return BudgetOut.of(await service.get_budget(tx, budget_id))


@router.patch("/{budget_id}", response_model=BudgetOut)
async def update_budget(budget_id: str, body: BudgetUpdate, tx: TxDep) -> BudgetOut:
    budget = await service.update_budget(
        tx, budget_id, amount=body.amount, thresholds=body.thresholds, action=body.action
    )
    return BudgetOut.of(budget)


@router.post("/{budget_id}/archive", response_model=BudgetOut)
async def archive_budget(budget_id: str, tx: TxDep) -> BudgetOut:
    """Stop enforcing and counting; the budget and its alerts stay readable."""
    return BudgetOut.of(await service.archive_budget(tx, budget_id))


@router.post("/{budget_id}/reset", response_model=BudgetOut)
async def reset_budget(budget_id: str, tx: TxDep) -> BudgetOut:
    """Start a new period now (spent 0) that ends where the calendar period would; recorded with the operator
    key that asked, and `reset_at` shows when. Active holds keep reserving in the period they were placed in."""
    return BudgetOut.of(await service.reset_budget(tx, budget_id))


@alerts_router.get("", response_model=Page[AlertOut])
async def list_alerts(
    tx: TxDep,
    page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    budget: str | None = None,
    kind: Literal["budget.threshold_reached", "budget.exceeded"] | None = None,
) -> Page[AlertOut]:
    """Threshold crossings, newest first: each at most once per budget, period and threshold."""
    found = await service.list_alerts(
        tx, customer=customer, budget=budget, kind=kind, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([AlertOut.of(a) for a in found], page.limit)
