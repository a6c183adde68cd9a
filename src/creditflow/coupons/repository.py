"""Coupon and redemption queries. The counter moves only by conditional single-statement updates, so no two
processes can both take the last redemption."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from creditflow.coupons.models import (
    COUNTED,
    AppliesTo,
    Coupon,
    CouponKind,
    CouponStatus,
    Duration,
    Redemption,
    RedemptionStatus,
)
from creditflow.db.pagination import newest_first
from creditflow.db.tables import coupon_redemptions, coupons
from creditflow.db.tx import Tx


def _coupon(row: Any) -> Coupon:
    return Coupon(
        id=row.id, code=row.code, kind=CouponKind(row.kind), value=row.value, currency=row.currency,
        applies_to=AppliesTo(row.applies_to), max_redemptions=row.max_redemptions,
        per_customer_limit=row.per_customer_limit, valid_from=row.valid_from, valid_until=row.valid_until,
        min_amount=row.min_amount, customer_ids=row.customer_ids, bonus_expires_in_days=row.bonus_expires_in_days,
        duration=Duration(row.duration), duration_periods=row.duration_periods, metadata=row.metadata,
        status=CouponStatus(row.status), times_redeemed=row.times_redeemed,
        created_at=row.created_at, archived_at=row.archived_at,
    )


def _redemption(row: Any) -> Redemption:
    return Redemption(
        id=row.id, coupon_id=row.coupon_id, customer_id=row.customer_id, topup_id=row.topup_id,
        subscription_id=row.subscription_id, periods_left=row.periods_left,
        status=RedemptionStatus(row.status), currency=row.currency, discount=row.discount,
        bonus_credits=row.bonus_credits, over_limit=row.over_limit, created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def insert_coupon(tx: Tx, values: dict[str, Any]) -> None:
    await tx.conn.execute(coupons.insert().values(**values))


async def code_taken(tx: Tx, code: str) -> bool:
    return (await tx.conn.execute(select(coupons.c.id).where(func.upper(coupons.c.code) == code.upper()))).first() \
        is not None


async def find_coupon(tx: Tx, ref: str) -> Coupon | None:
    """By id or by code (codes are matched without regard to case)."""
    row = (
        await tx.conn.execute(
            select(coupons).where((coupons.c.id == ref) | (func.upper(coupons.c.code) == ref.upper())).limit(1)
        )
    ).first()
    return None if row is None else _coupon(row)


async def list_coupons(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Coupon]:
    query = newest_first(select(coupons), coupons.c.id, limit=limit, starting_after=starting_after)
    if status is not None:
        query = query.where(coupons.c.status == status)
    return [_coupon(row) for row in (await tx.conn.execute(query)).all()]


async def archive(tx: Tx, coupon_id: str) -> None:
    await tx.conn.execute(
        update(coupons).where(coupons.c.id == coupon_id).values(status=CouponStatus.ARCHIVED, archived_at=tx.now)
    )


async def take_one(tx: Tx, coupon_id: str) -> bool:
    """Count one more claim if one is left; False when the coupon is exhausted. The row stays locked until
    commit (PostgreSQL), so the per-customer count that follows sees every committed claim."""
    result = await tx.conn.execute(
        update(coupons)
        .where(
            coupons.c.id == coupon_id,
            (coupons.c.max_redemptions.is_(None)) | (coupons.c.times_redeemed < coupons.c.max_redemptions),
        )
        .values(times_redeemed=coupons.c.times_redeemed + 1)
    )
    return result.rowcount == 1


async def add_claims(tx: Tx, coupon_id: str, delta: int) -> int:
    """Move the counter unconditionally (a release, or a paid top-up honoured past the limit); the new count."""
    result = await tx.conn.execute(
        update(coupons).where(coupons.c.id == coupon_id).values(times_redeemed=coupons.c.times_redeemed + delta)
        .returning(coupons.c.times_redeemed)
    )
    return int(result.scalar_one())


async def claims_of(tx: Tx, coupon_id: str, customer_id: str) -> int:
    return int(
        (
            await tx.conn.execute(
                select(func.count()).select_from(coupon_redemptions).where(
                    coupon_redemptions.c.coupon_id == coupon_id, coupon_redemptions.c.customer_id == customer_id,
                    coupon_redemptions.c.status.in_([s.value for s in COUNTED]),
                )
            )
        ).scalar_one()
    )


async def insert_redemption(tx: Tx, values: dict[str, Any]) -> None:
    await tx.conn.execute(coupon_redemptions.insert().values(**values, created_at=tx.now, updated_at=tx.now))


async def redemption_of_topup(tx: Tx, topup_id: str) -> Redemption | None:
    row = (await tx.conn.execute(select(coupon_redemptions).where(coupon_redemptions.c.topup_id == topup_id))).first()
    return None if row is None else _redemption(row)


async def redemption_of_subscription(tx: Tx, subscription_id: str) -> Redemption | None:
    row = (
        await tx.conn.execute(
            select(coupon_redemptions).where(coupon_redemptions.c.subscription_id == subscription_id)
        )
    ).first()
    return None if row is None else _redemption(row)


async def use_period(tx: Tx, redemption_id: str) -> None:
    """One charged period used the discount (a forever coupon's count stays None)."""
    await tx.conn.execute(
        update(coupon_redemptions)
        .where(coupon_redemptions.c.id == redemption_id, coupon_redemptions.c.periods_left.is_not(None))
        .values(periods_left=coupon_redemptions.c.periods_left - 1, updated_at=tx.now)
    )


async def move_redemption(tx: Tx, redemption_id: str, *, allowed: RedemptionStatus, **values: Any) -> bool:
    result = await tx.conn.execute(
        update(coupon_redemptions)
        .where(coupon_redemptions.c.id == redemption_id, coupon_redemptions.c.status == allowed)
        .values(**values, updated_at=tx.now)
    )
    return result.rowcount == 1


async def list_redemptions(tx: Tx, coupon_id: str, *, limit: int, starting_after: str | None) -> list[Redemption]:
    query = newest_first(
        select(coupon_redemptions), coupon_redemptions.c.id, limit=limit, starting_after=starting_after
    ).where(coupon_redemptions.c.coupon_id == coupon_id)
    return [_redemption(row) for row in (await tx.conn.execute(query)).all()]
