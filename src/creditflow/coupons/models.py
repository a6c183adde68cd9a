"""Coupons as the service returns them, their statuses, and the errors a redemption can meet (all 422)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from creditflow.errors import InvalidRequest


class CouponKind(StrEnum):
    PERCENT_OFF = "percent_off"
    AMOUNT_OFF = "amount_off"
    BONUS_CREDITS = "bonus_credits"


class AppliesTo(StrEnum):
    TOPUPS = "topups"
    SUBSCRIPTIONS = "subscriptions"
    BOTH = "both"


class Duration(StrEnum):
    """How many of a subscription's charged periods the discount applies to."""

    ONCE = "once"
    REPEATING = "repeating"
    FOREVER = "forever"


class CouponStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class RedemptionStatus(StrEnum):
    RESERVED = "reserved"
    """Taken at checkout: counts against the limits until the payment arrives or the gateway ends the checkout."""
    REDEEMED = "redeemed"
    RELEASED = "released"


# Claims that count against max_redemptions and per_customer_limit.
COUNTED = (RedemptionStatus.RESERVED, RedemptionStatus.REDEEMED)


class CouponInvalid(InvalidRequest):
    code = "coupon_invalid"


class CouponExpired(InvalidRequest):
    code = "coupon_expired"


class CouponExhausted(InvalidRequest):
    code = "coupon_exhausted"


class CouponNotApplicable(InvalidRequest):
    code = "coupon_not_applicable"


@dataclass(frozen=True, slots=True)
class Coupon:
    id: str
    code: str
    kind: CouponKind
    value: int
    """percent_off: micro-percent; amount_off and bonus_credits: micro-units of `currency`."""
    currency: str | None
    applies_to: AppliesTo
    max_redemptions: int | None
    per_customer_limit: int
    valid_from: datetime | None
    valid_until: datetime | None
    min_amount: int | None
    customer_ids: list[str] | None
    bonus_expires_in_days: int | None
    duration: Duration
    duration_periods: int | None
    metadata: dict[str, Any]
    status: CouponStatus
    times_redeemed: int
    created_at: datetime
    archived_at: datetime | None


@dataclass(frozen=True, slots=True)
class Redemption:
    id: str
    coupon_id: str
    customer_id: str
    topup_id: str | None
    subscription_id: str | None
    periods_left: int | None
    status: RedemptionStatus
    currency: str
    discount: int
    bonus_credits: int
    over_limit: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Effect:
    """What a coupon does to one purchase: money off before tax, and promotional credits on top."""

    coupon: Coupon
    discount: int
    bonus_credits: int
