"""Auto top-up request and response bodies. Amounts are exact decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from creditflow import money
from creditflow.auto_topups.models import Attempt, AutoTopup
from creditflow.http.schemas import StrictModel
from creditflow.money import Amount, PositiveAmount, Unit
from creditflow.topups.schemas import Gateway


class AutoTopupSet(StrictModel):
    threshold: Amount = Field(description="Top up when the wallet's available balance falls below this.")
    amount: PositiveAmount | None = Field(default=None, description="Money to charge each time, in `currency`.")
    target_balance: PositiveAmount | None = Field(
        default=None, description="Or: charge what brings the balance back to this (in the wallet's unit)."
    )
    currency: Unit | None = Field(
        default=None, description="The money charged; default the wallet's unit. Its top-ups must credit this wallet."
    )
    max_per_day: int = Field(default=1, ge=1, le=100, description="At most this many top-ups in any 24 hours.")
    payment_method: str | None = Field(
        default=None, description="A saved payment method to charge; default: the customer's default at the time."
    )
    link_gateway: Gateway | None = Field(
        default=None, description="With no saved method to charge: open a top-up here and email its payment link."
    )

    @model_validator(mode="after")
    def _one_amount(self) -> AutoTopupSet:
        if (self.amount is None) == (self.target_balance is None):
            raise ValueError("give amount or target_balance, not both")
        return self


def _shown(value: int | None, unit: str) -> str | None:
    return None if value is None else money.format(value, unit)


class AutoTopupOut(BaseModel):
    object: Literal["auto_topup"] = "auto_topup"
    customer: str
    wallet: str = Field(description="The wallet's unit: threshold and target_balance are in it.")
    threshold: str
    amount: str | None
    target_balance: str | None
    currency: str
    max_per_day: int
    payment_method: str | None
    link_gateway: str | None
    failures: int = Field(description="Failed attempts in a row.")
    retry_at: datetime | None = Field(description="No new attempt before this (backing off after a failure).")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, settings: AutoTopup) -> AutoTopupOut:
        unit = settings.unit
        return cls(
            customer=settings.customer_id, wallet=unit, threshold=money.format(settings.threshold, unit),
            amount=_shown(settings.amount, settings.currency), target_balance=_shown(settings.target_balance, unit),
            currency=settings.currency, max_per_day=settings.max_per_day, payment_method=settings.payment_method_id,
            link_gateway=settings.link_gateway, failures=settings.failures, retry_at=settings.retry_at,
            created_at=settings.created_at, updated_at=settings.updated_at,
        )


class AttemptOut(BaseModel):
    object: Literal["auto_topup_attempt"] = "auto_topup_attempt"
    id: str
    kind: Literal["charge", "link"]
    status: Literal["pending", "succeeded", "failed"]
    amount: str
    currency: str
    payment_method: str | None
    topup: str | None
    failure_reason: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls(
            id=attempt.id, kind=attempt.kind, status=attempt.status,  # type: ignore[arg-type]
            amount=money.format(attempt.amount, attempt.currency), currency=attempt.currency,
            payment_method=attempt.payment_method_id, topup=attempt.topup_id, failure_reason=attempt.failure_reason,
            created_at=attempt.created_at, finished_at=attempt.finished_at,
        )
