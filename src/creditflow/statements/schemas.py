"""Statement response bodies: amounts as decimal strings in each wallet's unit."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.statements.service import Statement


class WalletStatementOut(BaseModel):
    currency: str
    opening_balance: str
    movements: dict[str, str] = Field(
        description="Net into the wallet by category (topups, grants, usage, subscriptions, refunds, expiries, "
                    "voids, debt, other); opening_balance + their sum = closing_balance exactly."
    )
    closing_balance: str


class MetricUsageOut(BaseModel):
    metric: str
    currency: str
    events: int
    cost: str = Field(description="Charged for the month's events, net of refunds (the usage movement's detail).")


class StatementOut(BaseModel):
    object: Literal["statement"] = "statement"
    customer: str
    month: str
    timezone: str = Field(description="The customer's: the month runs from its first midnight to the next.")
    start: datetime
    end: datetime
    wallets: list[WalletStatementOut]
    usage_by_metric: list[MetricUsageOut]

    @classmethod
    def of(cls, statement: Statement) -> StatementOut:
        return cls(
            customer=statement.customer_id, month=statement.month, timezone=statement.timezone,
            start=statement.start, end=statement.end,
            wallets=[
                WalletStatementOut(
                    currency=w.unit, opening_balance=money.format(w.opening, w.unit),
                    movements={name: money.format(amount, w.unit) for name, amount in w.movements.items()},
                    closing_balance=money.format(w.closing, w.unit),
                )
                for w in statement.wallets
            ],
            usage_by_metric=[
                MetricUsageOut(metric=code, currency=currency, events=count, cost=money.format(cost, currency))
                for code, currency, count, cost in statement.usage_by_metric
            ],
        )
