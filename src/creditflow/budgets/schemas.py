"""Budget and alert request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from creditflow import money
from creditflow.budgets.guard import BudgetState
from creditflow.budgets.service import Alert, Budget
from creditflow.customers.schemas import Timezone
from creditflow.http.schemas import StrictModel
from creditflow.money import PositiveAmount, Unit

Threshold = Annotated[int, Field(ge=1, le=1000, description="Percent of the budget's amount.")]
Thresholds = Annotated[list[Threshold], Field(max_length=20)]
Action = Literal["block", "alert"]


class BudgetCreate(StrictModel):
    customer: str | None = Field(default=None, description="Customer id or external_id (or give api_key).")
    api_key: str | None = Field(
        default=None, max_length=40, description="A customer API key id: the budget counts only its spend."
    )
    amount: PositiveAmount
    currency: Unit | None = Field(default=None, description="The wallet it watches; default: the customer's currency.")
    period: Literal["day", "week", "month", "none"]
    timezone: Timezone = Field(default="UTC", description="IANA zone whose calendar periods the budget follows.")
    thresholds: Thresholds = Field(default_factory=list, description="Alert when spend reaches these percents.")
    action: Action = Field(description="block: refuse spend beyond the amount (402); alert: only record alerts.")

    @model_validator(mode="after")
    def _owner_given(self) -> BudgetCreate:
        if self.customer is None and self.api_key is None:
            raise ValueError("give customer, api_key or both")
        return self


class BudgetUpdate(StrictModel):
    amount: PositiveAmount | None = None
    thresholds: Thresholds | None = None
    action: Action | None = None


class BudgetPeriod(BaseModel):
    start: datetime
    end: datetime | None = Field(description="null for period none.")
    spent: str
    reserved: str = Field(description="Held by active holds: counted as used until they are captured or end.")
    remaining: str


class BudgetOut(BaseModel):
    object: Literal["budget"] = "budget"
    id: str
    customer: str
    api_key: str | None
    currency: str
    amount: str
    period: str
    timezone: str
    thresholds: list[int]
    action: str
    status: Literal["active", "archived"]
    current_period: BudgetPeriod
    reset_at: datetime | None = Field(description="The last manual reset, where the current period began.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, budget: Budget) -> BudgetOut:
        unit = budget.unit
        return cls(
            id=budget.id, customer=budget.customer_id, api_key=budget.api_key_id, currency=unit,
            amount=money.format(budget.amount, unit), period=budget.period, timezone=budget.timezone,
            thresholds=budget.thresholds, action=budget.action, status=budget.status,  # type: ignore[arg-type]
            current_period=BudgetPeriod(
                start=budget.period_start, end=budget.period_end, spent=money.format(budget.spent, unit),
                reserved=money.format(budget.reserved, unit), remaining=money.format(budget.remaining, unit),
            ),
            reset_at=budget.reset_at, created_at=budget.created_at, updated_at=budget.updated_at,
        )


class BudgetSummary(BaseModel):
    """The tightest budget that applies (what verify and authorize report)."""

    id: str
    currency: str
    total: str
    used: str = Field(description="Spent plus reserved by active holds, in the current period.")
    remaining: str

    @classmethod
    def of(cls, state: BudgetState | None) -> BudgetSummary | None:
        if state is None:
            return None
        unit = state.unit
        return cls(
            id=state.id, currency=unit, total=money.format(state.amount, unit), used=money.format(state.used, unit),
            remaining=money.format(state.remaining, unit),
        )


class AlertOut(BaseModel):
    object: Literal["alert"] = "alert"
    id: str
    kind: Literal["budget.threshold_reached", "budget.exceeded"]
    customer: str
    budget: str
    period_start: datetime
    threshold: int = Field(description="Percent of the budget's amount that was reached.")
    currency: str
    budget_amount: str
    spent: str = Field(description="Spend in the period when the threshold was crossed.")
    created_at: datetime

    @classmethod
    def of(cls, alert: Alert) -> AlertOut:
        unit = alert.unit
        return cls(
            id=alert.id, kind=alert.kind, customer=alert.customer_id, budget=alert.budget_id,  # type: ignore[arg-type]
            period_start=alert.period_start, threshold=alert.threshold, currency=unit,
            budget_amount=money.format(alert.budget_amount, unit), spent=money.format(alert.spent, unit),
            created_at=alert.created_at,
        )
