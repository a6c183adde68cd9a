"""Coupon request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from creditflow import money
from creditflow.coupons.models import (
    AppliesTo,
    Coupon,
    CouponKind,
    CouponStatus,
    Duration,
    Redemption,
    RedemptionStatus,
)
from creditflow.http.schemas import Metadata, StrictModel
from creditflow.money import PositiveAmount, Unit
from creditflow.topups.rules import Quote

CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"


class CouponCreate(StrictModel):
    code: str = Field(pattern=CODE_PATTERN, description="What customers type; matched without regard to case.")
    kind: CouponKind
    value: PositiveAmount = Field(
        description="percent_off: the percentage (\"10\" is 10%); amount_off: money off; bonus_credits: credits given."
    )
    currency: Unit | None = Field(
        default=None, description="Required for amount_off and bonus_credits (the credits' unit) and with min_amount."
    )
    applies_to: AppliesTo = AppliesTo.TOPUPS
    max_redemptions: int | None = Field(default=None, ge=1, description="Across all customers; unset: no limit.")
    per_customer_limit: int = Field(default=1, ge=1)
    valid_from: AwareDatetime | None = None
    valid_until: AwareDatetime | None = None
    min_amount: PositiveAmount | None = Field(
        default=None, description="The smallest purchase, before the discount (bonus_credits: credits bought)."
    )
    customers: list[str] | None = Field(default=None, max_length=1000, description="Only these customers.")
    bonus_expires_in_days: int | None = Field(default=None, ge=1, le=3650)
    duration: Duration = Field(
        default=Duration.ONCE, description="Subscriptions: the first charged period, duration_periods of them, or all."
    )
    duration_periods: int | None = Field(default=None, ge=1, le=1000)
    metadata: Metadata = Field(default_factory=dict)


class CouponOut(BaseModel):
    object: Literal["coupon"] = "coupon"
    id: str
    code: str
    kind: CouponKind
    value: str
    currency: str | None
    applies_to: AppliesTo
    max_redemptions: int | None
    per_customer_limit: int
    times_redeemed: int = Field(description="Redemptions taken: reserved by open checkouts plus redeemed.")
    valid_from: datetime | None
    valid_until: datetime | None
    min_amount: str | None
    customers: list[str] | None
    bonus_expires_in_days: int | None
    duration: Duration
    duration_periods: int | None
    metadata: dict[str, str]
    status: CouponStatus
    created_at: datetime
    archived_at: datetime | None

    @classmethod
    def of(cls, coupon: Coupon) -> CouponOut:
        unit = coupon.currency or "UNITS"
        return cls(
            id=coupon.id, code=coupon.code, kind=coupon.kind,
            value=money.format(coupon.value, "UNITS" if coupon.kind is CouponKind.PERCENT_OFF else unit),
            currency=coupon.currency, applies_to=coupon.applies_to, max_redemptions=coupon.max_redemptions,
            per_customer_limit=coupon.per_customer_limit, times_redeemed=coupon.times_redeemed,
            valid_from=coupon.valid_from, valid_until=coupon.valid_until,
            min_amount=None if coupon.min_amount is None else money.format(coupon.min_amount, unit),
            customers=coupon.customer_ids, bonus_expires_in_days=coupon.bonus_expires_in_days,
            duration=coupon.duration, duration_periods=coupon.duration_periods,
            metadata=coupon.metadata, status=coupon.status, created_at=coupon.created_at,
            archived_at=coupon.archived_at,
        )


class RedemptionOut(BaseModel):
    object: Literal["coupon_redemption"] = "coupon_redemption"
    id: str
    coupon: str
    customer: str
    topup: str | None
    subscription: str | None
    periods_left: int | None = Field(description="Subscriptions: charged periods still discounted (null: forever).")
    status: RedemptionStatus
    currency: str
    discount: str
    bonus_credits: str
    over_limit: bool = Field(description="Paid after its reservation was released, past max_redemptions: review.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, redemption: Redemption) -> RedemptionOut:
        return cls(
            id=redemption.id, coupon=redemption.coupon_id, customer=redemption.customer_id,
            topup=redemption.topup_id, subscription=redemption.subscription_id, periods_left=redemption.periods_left,
            status=redemption.status, currency=redemption.currency or "UNITS",
            discount=money.format(redemption.discount, redemption.currency or "UNITS"),
            bonus_credits=money.format(redemption.bonus_credits, "UNITS"), over_limit=redemption.over_limit,
            created_at=redemption.created_at, updated_at=redemption.updated_at,
        )


class CouponPreviewRequest(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    amount: PositiveAmount = Field(description="The top-up as asked, before the discount and any exclusive tax.")
    currency: Unit


class CouponPreviewOut(BaseModel):
    object: Literal["coupon_preview"] = "coupon_preview"
    coupon: str
    currency: str
    amount: str
    discount: str
    subtotal: str = Field(description="Net of tax and discount: the credits' cost basis.")
    tax: str
    total: str = Field(description="What the customer would pay.")
    credit_unit: str
    credits: str
    bonus_credits: str = Field(description="The currency's bonus tiers plus the coupon's bonus credits.")

    @classmethod
    def of(cls, code: str, quote: Quote, coupon_bonus: int) -> CouponPreviewOut:
        currency, unit = quote.currency, quote.credit_unit
        return cls(
            coupon=code, currency=currency, amount=money.format(quote.amount, currency),
            discount=money.format(quote.discount, currency), subtotal=money.format(quote.subtotal, currency),
            tax=money.format(quote.tax, currency), total=money.format(quote.total, currency), credit_unit=unit,
            credits=money.format(quote.credits, unit),
            bonus_credits=money.format(quote.bonus_credits + coupon_bonus, unit),
        )
