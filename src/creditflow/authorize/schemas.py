"""Authorize request and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from creditflow import money
from creditflow.authorize.service import Authorization
from creditflow.budgets.schemas import BudgetSummary
from creditflow.holds.schemas import MAX_EXPIRES_IN
from creditflow.http.schemas import StrictModel
from creditflow.money import PositiveAmount, Unit


class AuthorizeRequest(StrictModel):
    api_key: str | None = Field(
        default=None, min_length=1, max_length=200, description="The customer's API key (the secret), as sent to you."
    )
    customer: str | None = Field(default=None, description="Customer id or external_id, when there is no key.")
    amount: PositiveAmount = Field(description="The estimate to reserve; capture the real cost later.")
    currency: Unit | None = Field(default=None, description="Wallet unit; default: the customer's currency.")
    expires_in: int | None = Field(
        default=None, ge=1, le=MAX_EXPIRES_IN, description="Seconds the hold lives; default 600, at most 7 days."
    )

    @model_validator(mode="after")
    def _one_subject(self) -> AuthorizeRequest:
        if (self.api_key is None) == (self.customer is None):
            raise ValueError("give exactly one of api_key and customer")
        return self


class AuthorizedWallet(BaseModel):
    currency: str
    available: str


class AuthorizeAnswer(BaseModel):
    allowed: bool
    reason: Literal["insufficient_funds", "budget_exceeded", "rate_limited", "invalid_key"] | None = Field(
        default=None, description="Why it was refused (only when allowed is false)."
    )
    message: str | None = None
    hold_id: str | None = Field(default=None, description="Capture it with the real cost: POST /v1/holds/{id}/capture.")
    expires_at: datetime | None = None
    customer: str | None = None
    api_key: str | None = Field(default=None, description="The key's id.")
    budget: BudgetSummary | None = None
    wallet: AuthorizedWallet | None = None
    retry_after: int | None = Field(default=None, description="Seconds, when rate limited (also in Retry-After).")

    @classmethod
    def of(cls, result: Authorization) -> AuthorizeAnswer:
        wallet = result.wallet
        return cls(
            allowed=result.allowed, reason=result.reason, message=result.message,  # type: ignore[arg-type]
            hold_id=result.hold.id if result.hold else None,
            expires_at=result.hold.expires_at if result.hold else None,
            customer=result.customer_id, api_key=result.api_key_id, budget=BudgetSummary.of(result.budget),
            wallet=AuthorizedWallet(currency=wallet.unit, available=money.format(wallet.available, wallet.unit))
            if wallet else None,
            retry_after=result.retry_after,
        )
