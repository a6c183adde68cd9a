"""Low-balance alert request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from creditflow import money
from creditflow.balance_alerts.service import BalanceAlert
from creditflow.http.schemas import StrictModel
from creditflow.money import PositiveAmount


class BalanceAlertSet(StrictModel):
    threshold: PositiveAmount | None = Field(default=None, description="Alert when available falls below this.")
    threshold_percent: int | None = Field(
        default=None, ge=1, le=100, description="Or: this percentage of the customer's last top-up in this unit."
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> BalanceAlertSet:
        if (self.threshold is None) == (self.threshold_percent is None):
            raise ValueError("give threshold or threshold_percent, not both")
        return self


class BalanceAlertOut(BaseModel):
    object: Literal["balance_alert"] = "balance_alert"
    currency: str
    threshold: str | None
    threshold_percent: int | None
    effective_threshold: str | None = Field(
        description="The amount compared with the balance now; null for a percentage before any paid top-up."
    )
    available: str
    low: bool = Field(description="Below the threshold: alerted once, re-armed when the balance climbs back.")
    depleted: bool

    @classmethod
    def of(cls, alert: BalanceAlert) -> BalanceAlertOut:
        unit = alert.wallet.unit

        def shown(value: int | None) -> str | None:
            return None if value is None else money.format(value, unit)

        return cls(
            currency=unit, threshold=shown(alert.threshold), threshold_percent=alert.threshold_percent,
            effective_threshold=shown(alert.effective_threshold), available=money.format(alert.wallet.available, unit),
            low=alert.low, depleted=alert.depleted,
        )
