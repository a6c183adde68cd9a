"""Hold and capture request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.http.schemas import ApiKeyRef, Metadata, StrictModel
from creditflow.ledger.models import CaptureResult, Hold
from creditflow.money import PositiveAmount, Unit
from creditflow.wallets.schemas import Balance

MAX_EXPIRES_IN = 7 * 24 * 3600


class HoldCreate(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    amount: PositiveAmount
    currency: Unit | None = None
    expires_in: int | None = Field(
        default=None, ge=1, le=MAX_EXPIRES_IN, description="Seconds; default 600, at most 7 days."
    )
    description: str | None = Field(default=None, max_length=1000)
    metadata: Metadata = Field(default_factory=dict)
    api_key: ApiKeyRef = None


class CaptureCreate(StrictModel):
    amount: PositiveAmount | None = Field(default=None, description="Default: what the hold still reserves.")
    final: bool = Field(default=True, description="A final capture releases whatever is left.")


class HoldOut(BaseModel):
    object: Literal["hold"] = "hold"
    id: str
    customer: str
    currency: str
    status: Literal["active", "captured", "voided", "expired"]
    amount: str
    captured: str
    reserved: str = Field(description="What the hold still reserves.")
    expires_at: datetime
    description: str | None
    metadata: dict[str, str]
    api_key: str | None
    created_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, hold: Hold) -> HoldOut:
        unit = hold.unit
        return cls(
            id=hold.id, customer=hold.customer_id, currency=unit, status=hold.status,  # type: ignore[arg-type]
            amount=money.format(hold.amount, unit), captured=money.format(hold.captured, unit),
            reserved=money.format(hold.reserved, unit), expires_at=hold.expires_at,
            description=hold.description, metadata=hold.metadata, api_key=hold.api_key_id,
            created_at=hold.created_at, ended_at=hold.ended_at,
        )


class CaptureOut(BaseModel):
    object: Literal["capture"] = "capture"
    id: str
    amount: str
    breakage: str
    hold: HoldOut
    wallet: Balance
    created_at: datetime

    @classmethod
    def of(cls, capture: CaptureResult) -> CaptureOut:
        unit = capture.hold.unit
        return cls(
            id=capture.id, amount=money.format(capture.amount, unit), breakage=money.format(capture.breakage, unit),
            hold=HoldOut.of(capture.hold), wallet=Balance.of(capture.wallet), created_at=capture.created_at,
        )
