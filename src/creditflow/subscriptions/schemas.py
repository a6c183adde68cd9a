"""Plan and subscription request and response bodies. Amounts are exact decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.http.schemas import StrictModel
from creditflow.metering.schemas import UsageBucketOut, UsagePrice
from creditflow.metering.usage import UsageReport
from creditflow.money import Amount, PositiveAmount, Unit
from creditflow.subscriptions.models import Plan, Subscription

Interval = Literal["week", "month", "year"]
SubscriptionStatus = Literal["trialing", "active", "past_due", "suspended", "canceled"]


class PlanPrice(StrictModel):
    amount: Amount
    currency: Unit = Field(description="The wallet the plan is paid from (IDR, USD, CREDITS, ...).")


class IncludedCredits(StrictModel):
    amount: PositiveAmount
    currency: Unit | None = Field(default=None, description="Default: the plan's currency.")
    rollover: bool = Field(default=False, description="Keep unused credits; otherwise they expire at period end.")


class PlanCreate(StrictModel):
    code: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:-]+$")
    name: str = Field(min_length=1, max_length=255)
    interval: Interval
    price: PlanPrice
    included_credits: IncludedCredits | None = None
    trial_days: int = Field(default=0, ge=0, le=730)
    paid_credits_only: bool = Field(
        default=True, description="Charges draw only paid credits: promotional and included ones never pay a plan."
    )
    prices: list[UsagePrice] = Field(
        default_factory=list, max_length=100,
        description="Usage prices for the plan's subscribers: before the default price, after a customer's own "
        "(more later with POST /v1/prices {plan}).",
    )


class PriceOut(BaseModel):
    amount: str
    currency: str


class IncludedOut(BaseModel):
    amount: str
    currency: str
    rollover: bool


class PlanOut(BaseModel):
    object: Literal["plan"] = "plan"
    id: str
    code: str
    name: str
    interval: Interval
    price: PriceOut
    included_credits: IncludedOut | None
    trial_days: int
    paid_credits_only: bool
    prices: list[str] = Field(description="Ids of the plan's active usage prices (GET /v1/prices?plan=).")
    status: Literal["active", "archived"]
    created_at: datetime
    archived_at: datetime | None

    @classmethod
    def of(cls, plan: Plan, prices: list[str]) -> PlanOut:
        included = None
        if plan.included_credits and plan.included_unit:
            included = IncludedOut(amount=money.format(plan.included_credits, plan.included_unit),
                                   currency=plan.included_unit, rollover=plan.rollover)
        return cls(
            id=plan.id, code=plan.code, name=plan.name, interval=plan.interval,  # type: ignore[arg-type]
            price=PriceOut(amount=money.format(plan.amount, plan.currency), currency=plan.currency),
            included_credits=included, trial_days=plan.trial_days, paid_credits_only=plan.paid_credits_only,
            prices=prices, status=plan.status, created_at=plan.created_at, archived_at=plan.archived_at,  # type: ignore[arg-type]
        )


class SubscriptionCreate(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    plan: str = Field(description="Plan id or code.")
    start_at: datetime | None = Field(
        default=None, description="When the first period began (default now; not in the future, within one interval)."
    )
    coupon: str | None = Field(
        default=None, max_length=64, description="A coupon code: money off the plan's charges for its duration."
    )


class SubscriptionCancel(StrictModel):
    at_period_end: bool = Field(default=True, description="Stay active until the period ends; else end now.")


class SubscriptionChange(StrictModel):
    plan: str = Field(description="Plan id or code: dearer applies now (prorated), cheaper from the next period.")


class SubscriptionOut(BaseModel):
    object: Literal["subscription"] = "subscription"
    id: str
    customer: str
    plan: str = Field(description="The plan's id.")
    next_plan: str | None = Field(description="A cheaper plan it renews on (a downgrade waiting for period end).")
    status: SubscriptionStatus
    current_period_start: datetime
    current_period_end: datetime
    trial_end: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    past_due_since: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionOut:
        return cls(
            id=subscription.id, customer=subscription.customer_id, plan=subscription.plan_id,
            next_plan=subscription.next_plan_id, status=subscription.status,  # type: ignore[arg-type]
            current_period_start=subscription.current_period_start,
            current_period_end=subscription.current_period_end, trial_end=subscription.trial_end,
            cancel_at_period_end=subscription.cancel_at_period_end, canceled_at=subscription.canceled_at,
            past_due_since=subscription.past_due_since, created_at=subscription.created_at,
        )


class UsageTotalOut(BaseModel):
    currency: str
    cost: str


class SubscriptionUsageOut(BaseModel):
    object: Literal["subscription_usage"] = "subscription_usage"
    subscription: str
    customer: str
    plan: str = Field(description="The plan's code.")
    period_start: datetime = Field(description="The subscription's current billing period: usage from here...")
    period_end: datetime
    to: datetime = Field(description="...to now (or the period's end, if sooner).")
    data: list[UsageBucketOut] = Field(description="One row per metric and currency, priced as the plan prices it.")
    totals: list[UsageTotalOut] = Field(description="Cost per currency so far this period.")

    @classmethod
    def of(cls, subscription: Subscription, plan: Plan, report: UsageReport) -> SubscriptionUsageOut:
        totals: dict[str, int] = {}
        for row in report.rows:
            if row.currency is not None:
                totals[row.currency] = totals.get(row.currency, 0) + row.cost
        return cls(
            subscription=subscription.id, customer=subscription.customer_id, plan=plan.code,
            period_start=subscription.current_period_start, period_end=subscription.current_period_end,
            to=report.end, data=UsageBucketOut.all_of(report),
            totals=[UsageTotalOut(currency=c, cost=money.format(v, c)) for c, v in sorted(totals.items())],
        )
