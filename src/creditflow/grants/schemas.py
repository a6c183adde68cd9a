"""Credit grant request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from creditflow import money
from creditflow.http.schemas import Metadata, StrictModel
from creditflow.ledger.grants import DEFAULT_PRIORITY
from creditflow.ledger.models import Grant
from creditflow.money import Amount, PositiveAmount, Unit


class Cost(StrictModel):
    amount: Amount
    currency: Unit


class GrantCreate(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    amount: PositiveAmount
    currency: Unit | None = Field(default=None, description="Wallet unit; default: the customer's currency.")
    category: Literal["paid", "promotional"]
    priority: int = Field(default=DEFAULT_PRIORITY, ge=0, le=1000, description="Lower is drawn first.")
    expires_at: AwareDatetime | None = None
    cost: Cost | None = Field(default=None, description="Money paid for these credits (cost basis).")
    description: str | None = Field(default=None, max_length=1000)
    metadata: Metadata = Field(default_factory=dict)


class CostOut(BaseModel):
    amount: str
    currency: str


class GrantOut(BaseModel):
    object: Literal["credit_grant"] = "credit_grant"
    id: str
    customer: str
    wallet: str
    currency: str
    amount: str
    remaining: str
    held: str
    category: str
    priority: int
    expires_at: datetime | None
    cost: CostOut | None
    source: str
    status: str
    description: str | None
    metadata: dict[str, str]
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, grant: Grant) -> GrantOut:
        unit = grant.unit
        cost = None
        if grant.cost_amount is not None and grant.cost_unit is not None:
            cost = CostOut(amount=money.format(grant.cost_amount, grant.cost_unit), currency=grant.cost_unit)
        return cls(
            id=grant.id, customer=grant.customer_id, wallet=grant.wallet_id, currency=unit,
            amount=money.format(grant.amount, unit), remaining=money.format(grant.remaining, unit),
            held=money.format(grant.held, unit), category=grant.category, priority=grant.priority,
            expires_at=grant.expires_at, cost=cost, source=grant.source, status=grant.status,
            description=grant.description, metadata=grant.metadata, created_at=grant.created_at,
            ended_at=grant.ended_at,
        )
