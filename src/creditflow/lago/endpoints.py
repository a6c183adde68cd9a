"""Lago's API under /api/v1: customers, billable metrics, plans, subscriptions. Thin: parse, call, render.

`Authorization: Bearer` takes a creditflow operator key. Each request is one transaction; an Idempotency-Key
makes a POST safe to retry, as on /v1."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from creditflow.customers import service as customers
from creditflow.customers.service import get_customer
from creditflow.http.deps import SettingsDep, TxDep, require_operator
from creditflow.invoices.models import Issuer
from creditflow.lago import catalog, views
from creditflow.lago import repository as lago_repository
from creditflow.lago.events import current_usage
from creditflow.lago.routing import LagoRoute
from creditflow.lago.schemas import CustomerBody, MetricBody, PlanBody, SubscriptionBody
from creditflow.metering import metrics
from creditflow.subscriptions.plans import archive_plan, get_plan

router = APIRouter(prefix="/api/v1", tags=["lago"], route_class=LagoRoute, dependencies=[require_operator])

PageQuery = Annotated[int, Query(ge=1)]
PerPageQuery = Annotated[int, Query(ge=1, le=100)]


@router.post("/customers", status_code=status.HTTP_200_OK)
async def upsert_customer(body: CustomerBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """Create the customer, or update the one with this external_id (Lago's upsert)."""
    found = await catalog.upsert_customer(tx, body.customer, settings.default_currency)
    return {"customer": views.customer(found)}


@router.get("/customers")
async def list_customers(tx: TxDep, page: PageQuery = 1, per_page: PerPageQuery = 100) -> dict[str, Any]:
    ids, total = await lago_repository.customer_ids(tx, limit=per_page, offset=(page - 1) * per_page)
    shown = [views.customer(await get_customer(tx, customer_id)) for customer_id in ids]
    return {"customers": shown, "meta": views.page_meta(page, per_page, total)}


@router.get("/customers/{external_id}")
async def find_customer(external_id: str, tx: TxDep) -> dict[str, Any]:
    return {"customer": views.customer(await get_customer(tx, external_id))}


@router.delete("/customers/{external_id}")
async def delete_customer(external_id: str, tx: TxDep) -> dict[str, Any]:
    """Refused (422) with a balance, holds or an open invoice; otherwise personal fields are erased, the ledger kept."""
    return {"customer": views.customer(await customers.erase_customer(tx, external_id))}


@router.get("/customers/{external_id}/current_usage")
async def customer_current_usage(external_id: str, external_subscription_id: str, tx: TxDep) -> dict[str, Any]:
    return {"customer_usage": await current_usage(tx, external_id, external_subscription_id)}


@router.post("/billable_metrics")
async def create_metric(body: MetricBody, tx: TxDep) -> dict[str, Any]:
    return {"billable_metric": views.metric(await catalog.create_metric(tx, body.billable_metric))}


@router.get("/billable_metrics/{code}")
async def find_metric(code: str, tx: TxDep) -> dict[str, Any]:
    return {"billable_metric": views.metric(await metrics.get_metric(tx, code))}


@router.delete("/billable_metrics/{code}")
async def delete_metric(code: str, tx: TxDep) -> dict[str, Any]:
    """Archived: no new events or charges; what it recorded stays."""
    return {"billable_metric": views.metric(await metrics.archive_metric(tx, code))}


@router.post("/plans")
async def create_plan(body: PlanBody, tx: TxDep) -> dict[str, Any]:
    plan, _ = await catalog.create_plan(tx, body.plan)
    return {"plan": await _plan_view(tx, plan.code)}


@router.get("/plans/{code}")
async def find_plan(code: str, tx: TxDep) -> dict[str, Any]:
    return {"plan": await _plan_view(tx, code)}


@router.delete("/plans/{code}")
async def delete_plan(code: str, tx: TxDep) -> dict[str, Any]:
    """Archived: no new subscriptions; existing ones go on."""
    await archive_plan(tx, code)
    return {"plan": await _plan_view(tx, code)}


async def _plan_view(tx: TxDep, code: str) -> dict[str, Any]:
    plan = await get_plan(tx, code)
    charges = []
    for price in await catalog.plan_charges(tx, plan):
        charges.append(views.charge(price, (await metrics.get_metric(tx, price.metric_id)).code))
    return views.plan(plan, charges)


@router.post("/subscriptions")
async def create_subscription(body: SubscriptionBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """Always created; a first fee the balance cannot pay leaves it past_due, as Lago would."""
    external_id = await catalog.create_subscription(
        tx, body.subscription, Issuer.from_settings(settings), timedelta(days=settings.subscription_grace_days)
    )
    return {"subscription": await _subscription_view(tx, external_id)}


@router.get("/subscriptions/{external_id}")
async def find_subscription(external_id: str, tx: TxDep) -> dict[str, Any]:
    return {"subscription": await _subscription_view(tx, external_id)}


@router.delete("/subscriptions/{external_id}")
async def terminate_subscription(external_id: str, tx: TxDep) -> dict[str, Any]:
    await catalog.terminate_subscription(tx, external_id)
    return {"subscription": await _subscription_view(tx, external_id)}


@router.get("/subscriptions")
async def list_subscriptions(
    tx: TxDep, external_customer_id: str, page: PageQuery = 1, per_page: PerPageQuery = 100
) -> dict[str, Any]:
    owner = await get_customer(tx, external_customer_id)
    rows, total = await lago_repository.subscriptions_of_customer(
        tx, owner.id, limit=per_page, offset=(page - 1) * per_page
    )
    shown = [await _subscription_view(tx, row.external_id) for row in rows]
    return {"subscriptions": shown, "meta": views.page_meta(page, per_page, total)}


async def _subscription_view(tx: TxDep, external_id: str) -> dict[str, Any]:
    subscription, row = await catalog.find_subscription(tx, external_id)
    owner = await get_customer(tx, subscription.customer_id)
    plan = await get_plan(tx, subscription.plan_id)
    return views.subscription(subscription, row.external_id, owner.external_id, plan.code, row.name)
