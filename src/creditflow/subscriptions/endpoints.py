"""Plan and subscription endpoints: thin HTTP over plans.py and service.py, one transaction per request."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.invoices.models import Issuer
from creditflow.metering import prices as price_service
from creditflow.metering.usage import usage_report
from creditflow.subscriptions import plans, service
from creditflow.subscriptions.models import Plan
from creditflow.subscriptions.schemas import (
    PlanCreate,
    PlanOut,
    SubscriptionCancel,
    SubscriptionChange,
    SubscriptionCreate,
    SubscriptionOut,
    SubscriptionStatus,
    SubscriptionUsageOut,
)

plans_router = APIRouter(
    prefix="/v1/plans", tags=["subscriptions"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
router = APIRouter(
    prefix="/v1/subscriptions", tags=["subscriptions"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)

_SHORT = {402: {"description": "insufficient_funds: the balance (paid credits) does not cover the charge"}}


@plans_router.post("", status_code=status.HTTP_201_CREATED, response_model=PlanOut)
async def create_plan(body: PlanCreate, tx: TxDep) -> PlanOut:
    included = body.included_credits
    plan = await plans.create_plan(
        tx, code=body.code, name=body.name, interval=body.interval, amount=body.price.amount,
        currency=body.price.currency, included_credits=included.amount if included else None,
        included_unit=included.currency if included else None, rollover=included.rollover if included else False,
        trial_days=body.trial_days, paid_credits_only=body.paid_credits_only,
    )
    for price in body.prices:
        await price_service.create_price(
            tx, metric=price.metric, currency=price.currency, model=price.model, properties=price.properties,
            free_units_per_period=price.free_units_per_period, period=price.period, filters=price.filters,
            customer=None, plan=plan.id,
        )
    return await _plan_out(tx, plan)


@plans_router.get("", response_model=Page[PlanOut])
async def list_plans(
    tx: TxDep, page: PageDep, status: Annotated[Literal["active", "archived"] | None, Query()] = None
) -> Page[PlanOut]:
    found = await plans.list_plans(tx, status=status, limit=page.fetch, starting_after=page.starting_after)
    price_ids = await price_service.plan_price_ids(tx, [plan.id for plan in found])
    return page_of([PlanOut.of(plan, price_ids.get(plan.id, [])) for plan in found], page.limit)


@plans_router.get("/{plan}", response_model=PlanOut)
async def get_plan(plan: str, tx: TxDep) -> PlanOut:
    """By id or code."""
    return await _plan_out(tx, await plans.get_plan(tx, plan))


@plans_router.post("/{plan}/archive", response_model=PlanOut)
async def archive_plan(plan: str, tx: TxDep) -> PlanOut:
    """No new subscriptions; existing subscribers keep renewing on it."""
    return await _plan_out(tx, await plans.archive_plan(tx, plan))


async def _plan_out(tx: Tx, plan: Plan) -> PlanOut:
    price_ids = await price_service.plan_price_ids(tx, [plan.id])
    return PlanOut.of(plan, price_ids.get(plan.id, []))


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionOut, responses=_SHORT)
async def create_subscription(body: SubscriptionCreate, tx: TxDep, settings: SettingsDep) -> SubscriptionOut:
    """Charges the first period from the balance now (or when the trial ends), grants the included credits and
    issues an invoice paid from the balance. A short balance answers 402 and creates nothing."""
    subscription = await service.create_subscription(
        tx, customer=body.customer, plan=body.plan, start_at=body.start_at, issuer=Issuer.from_settings(settings),
        coupon=body.coupon,
    )
    return SubscriptionOut.of(subscription)


@router.get("", response_model=Page[SubscriptionOut])
async def list_subscriptions(
    tx: TxDep, page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    status: Annotated[SubscriptionStatus | None, Query()] = None,
) -> Page[SubscriptionOut]:
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await service.list_subscriptions(
        tx, customer_id=customer_id, status=status, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([SubscriptionOut.of(s) for s in found], page.limit)


@router.get("/{subscription_id}", response_model=SubscriptionOut)
async def get_subscription(subscription_id: str, tx: TxDep) -> SubscriptionOut:
    return SubscriptionOut.of(await service.get_subscription(tx, subscription_id))


@router.get("/{subscription_id}/usage", response_model=SubscriptionUsageOut)
async def subscription_usage(subscription_id: str, tx: TxDep) -> SubscriptionUsageOut:
    """Usage in the subscription's current billing period so far, per metric, priced as the plan prices it (the
    plan's usage prices, else the customer's own or the default, as events are charged)."""
    subscription = await service.get_subscription(tx, subscription_id)
    end = min(tx.now, subscription.current_period_end)
    report = await usage_report(
        tx, subscription.customer_id, start=subscription.current_period_start, end=end, metric=None,
        group_by="metric",
    )
    return SubscriptionUsageOut.of(subscription, await plans.get_plan(tx, subscription.plan_id), report)


@router.post("/{subscription_id}/cancel", response_model=SubscriptionOut)
async def cancel_subscription(
    subscription_id: str, tx: TxDep, body: SubscriptionCancel | None = None
) -> SubscriptionOut:
    at_period_end = body.at_period_end if body else True
    return SubscriptionOut.of(await service.cancel_subscription(tx, subscription_id, at_period_end=at_period_end))


@router.post("/{subscription_id}/change", response_model=SubscriptionOut, responses=_SHORT)
async def change_plan(
    subscription_id: str, body: SubscriptionChange, tx: TxDep, settings: SettingsDep
) -> SubscriptionOut:
    subscription = await service.change_plan(
        tx, subscription_id, plan=body.plan, issuer=Issuer.from_settings(settings)
    )
    return SubscriptionOut.of(subscription)
