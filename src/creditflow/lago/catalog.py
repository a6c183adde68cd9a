"""Customers, billable metrics, plans and subscriptions the Lago way, onto creditflow's services."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from creditflow import money
from creditflow.customers import service as customers
from creditflow.db.tx import Tx
from creditflow.errors import NotFound
from creditflow.invoices.models import Issuer
from creditflow.lago import repository
from creditflow.lago.convert import AGGREGATIONS, INTERVALS, charge_to_price, from_cents, invalid
from creditflow.lago.schemas import CustomerIn, MetricIn, PlanIn, SubscriptionIn
from creditflow.metering import metrics, prices
from creditflow.periods import PERIODS
from creditflow.subscriptions import plans
from creditflow.subscriptions import service as subscriptions
from creditflow.subscriptions.models import Plan, Subscription


async def upsert_customer(tx: Tx, body: CustomerIn, default_currency: str) -> customers.Customer:
    """Lago's POST customers creates the customer, or updates the one with that external_id."""
    name = body.name or " ".join(part for part in (body.firstname, body.lastname) if part) or None
    metadata = {item.key: item.value for item in body.metadata or [] if item.key}
    try:
        found = await customers.get_customer(tx, body.external_id)
    except NotFound:
        currency = money.normalize_unit(body.currency) if body.currency else default_currency
        return await customers.create_customer(
            tx, external_id=body.external_id, currency=currency, timezone=body.timezone or "UTC", name=name,
            email=body.email, metadata=metadata,
        )
    if body.currency and money.normalize_unit(body.currency) != found.currency:
        raise invalid("currency", "currencies_does_not_match")
    changes: dict[str, Any] = {"name": name, "email": body.email, "timezone": body.timezone}
    changes = {key: value for key, value in changes.items() if value is not None}
    if body.metadata is not None:
        changes["metadata"] = metadata
    return await customers.update_customer(tx, found.id, changes)


async def create_metric(tx: Tx, body: MetricIn) -> metrics.Metric:
    aggregation = AGGREGATIONS.get(body.aggregation_type)
    if aggregation is None:
        raise invalid("aggregation_type", message=f"aggregation_type must be one of {', '.join(AGGREGATIONS)}")
    return await metrics.create_metric(
        tx, code=body.code, name=body.name, aggregation=aggregation, field=body.field_name, filters={}
    )


async def create_plan(tx: Tx, body: PlanIn) -> tuple[Plan, list[prices.Price]]:
    """A plan and its charges, each charge a usage price for the plan's subscribers."""
    interval = INTERVALS.get(body.interval)
    if interval is None:
        raise invalid("interval", message=f"interval must be one of {', '.join(INTERVALS)}")
    currency = money.normalize_unit(body.amount_currency)
    trial = body.trial_period or 0
    plan = await plans.create_plan(
        tx, code=body.code, name=body.name, interval=interval, amount=from_cents(body.amount_cents, currency),
        currency=currency, trial_days=int(trial), paid_credits_only=False,
    )
    period = interval if interval in PERIODS else "none"
    charges = []
    for charge in body.charges or []:
        charges.append(await prices.create_price(
            tx, metric=charge.billable_metric_id, currency=currency, model=charge.charge_model,
            properties=charge_to_price(charge.charge_model, charge.properties or {}), free_units_per_period=0,
            period=period, filters={}, customer=None, plan=plan.id,
        ))
    return plan, charges


async def plan_charges(tx: Tx, plan: Plan) -> list[prices.Price]:
    found = await prices.list_prices(tx, metric_id=None, customer_id=None, limit=100, starting_after=None,
                                     plan_id=plan.id)
    return sorted((p for p in found if p.status == "active"), key=lambda p: (p.created_at, p.id))


async def create_subscription(
    tx: Tx, body: SubscriptionIn, issuer: Issuer, grace: timedelta
) -> str:
    """Always created: a first fee the balance cannot pay leaves it past_due (Lago's behaviour), not a 402.
    Returns its external_id (the creditflow id when none was given)."""
    external_id = body.external_id
    if external_id and await repository.load_subscription(tx, external_id) is not None:
        raise invalid("external_id", "value_already_exist")
    subscription = await subscriptions.create_subscription(
        tx, customer=body.external_customer_id, plan=body.plan_code, start_at=None, issuer=issuer, grace=grace,
    )
    external_id = external_id or subscription.id
    await repository.insert_subscription(
        tx, external_id=external_id, subscription_id=subscription.id, customer_id=subscription.customer_id,
        name=body.name,
    )
    return external_id


async def find_subscription(tx: Tx, external_id: str) -> tuple[Subscription, Any]:
    row = await repository.load_subscription(tx, external_id)
    if row is None:
        raise NotFound(f"no subscription '{external_id}'", param="subscription")
    return await subscriptions.get_subscription(tx, row.subscription_id), row


async def terminate_subscription(tx: Tx, external_id: str) -> tuple[Subscription, Any]:
    subscription, row = await find_subscription(tx, external_id)
    if subscription.status != "canceled":
        subscription = await subscriptions.cancel_subscription(tx, subscription.id, at_period_end=False)
    return subscription, row
