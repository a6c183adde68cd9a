"""Coupons and promotion codes, and each redemption of one (reserved at checkout, redeemed when paid)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

coupons = Table(
    "coupons",
    metadata,
    Column("id", ID, primary_key=True),
    Column("code", String(64), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),
    # percent_off: micro-percent (10% is 10_000_000); amount_off and bonus_credits: micro-units of `currency`.
    Column("value", BigInteger, nullable=False),
    Column("currency", String(16)),
    Column("applies_to", String(20), nullable=False),
    Column("max_redemptions", Integer),
    Column("per_customer_limit", Integer, nullable=False),
    Column("valid_from", UTCDateTime()),
    Column("valid_until", UTCDateTime()),
    Column("min_amount", BigInteger),
    Column("customer_ids", JSON),
    Column("bonus_expires_in_days", Integer),
    # Subscriptions: once (the first charged period), repeating (duration_periods of them) or forever.
    Column("duration", String(20), nullable=False),
    Column("duration_periods", Integer),
    Column("metadata", JSON, nullable=False),
    Column("status", String(20), nullable=False),
    # Reserved plus redeemed: the counter the conditional UPDATE checks against max_redemptions.
    Column("times_redeemed", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
    CheckConstraint("value > 0", name="value_positive"),
    CheckConstraint("per_customer_limit >= 1", name="per_customer_limit_positive"),
    CheckConstraint("times_redeemed >= 0", name="times_redeemed_not_negative"),
)

coupon_redemptions = Table(
    "coupon_redemptions",
    metadata,
    Column("id", ID, primary_key=True),
    Column("coupon_id", ID, ForeignKey("coupons.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("topup_id", ID, ForeignKey("topups.id"), unique=True),
    Column("subscription_id", ID, ForeignKey("subscriptions.id"), unique=True),
    # Subscriptions: charged periods the discount still applies to (None: forever).
    Column("periods_left", Integer),
    Column("status", String(20), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("discount", BigInteger, nullable=False),
    Column("bonus_credits", BigInteger, nullable=False),
    # Paid after its reservation was released, when the coupon had no redemption left: honoured, for review.
    Column("over_limit", Boolean, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    Index(None, "coupon_id", "customer_id", "status"),
    Index(None, "coupon_id", "id"),
)
