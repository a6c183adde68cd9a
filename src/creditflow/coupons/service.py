"""Coupons: create, read, archive; what one does to a purchase; and its redemption across a checkout.

A redemption is reserved in the transaction that opens the checkout (one conditional UPDATE takes it, so
max_redemptions holds across processes; per_customer_limit is counted under that row's lock), redeemed in the
transaction that credits the payment, and released only when the gateway reports that the checkout failed or
expired. A payment that arrives anyway always honours its coupon, past max_redemptions if need be, flagged.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from creditflow import money
from creditflow.coupons import repository
from creditflow.coupons.models import (
    AppliesTo,
    Coupon,
    CouponExhausted,
    CouponExpired,
    CouponInvalid,
    CouponKind,
    CouponNotApplicable,
    CouponStatus,
    Duration,
    Effect,
    Redemption,
    RedemptionStatus,
)
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id

HUNDRED_PERCENT = 100 * money.MICROS


async def create_coupon(
    tx: Tx,
    *,
    code: str,
    kind: CouponKind,
    value: int,
    currency: str | None,
    applies_to: AppliesTo,
    max_redemptions: int | None,
    per_customer_limit: int,
    valid_from: datetime | None,
    valid_until: datetime | None,
    min_amount: int | None,
    customers: list[str] | None,
    bonus_expires_in_days: int | None,
    duration: Duration,
    duration_periods: int | None,
    metadata: dict[str, Any],
) -> Coupon:
    check_definition(kind, value, currency, min_amount)
    check_duration(kind, applies_to, duration, duration_periods)
    if await repository.code_taken(tx, code):
        raise Conflict(f"a coupon with code '{code}' already exists", param="code")
    customer_ids = None if customers is None else [(await get_customer(tx, ref)).id for ref in customers]
    coupon_id = new_id("cpn")
    await repository.insert_coupon(tx, {
        "id": coupon_id, "code": code, "kind": kind, "value": value, "currency": currency, "applies_to": applies_to,
        "max_redemptions": max_redemptions, "per_customer_limit": per_customer_limit, "valid_from": valid_from,
        "valid_until": valid_until, "min_amount": min_amount, "customer_ids": customer_ids,
        "bonus_expires_in_days": bonus_expires_in_days, "duration": duration, "duration_periods": duration_periods,
        "metadata": metadata, "status": CouponStatus.ACTIVE,
        "times_redeemed": 0, "created_at": tx.now, "archived_at": None,
    })
    return await get_coupon(tx, coupon_id)


async def get_coupon(tx: Tx, ref: str) -> Coupon:
    coupon = await repository.find_coupon(tx, ref)
    if coupon is None:
        raise NotFound(f"no coupon '{ref}'", param="coupon")
    return coupon


async def list_coupons(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Coupon]:
    return await repository.list_coupons(tx, status=status, limit=limit, starting_after=starting_after)


async def archive_coupon(tx: Tx, ref: str) -> Coupon:
    """No new redemptions; checkouts already holding one keep it."""
    coupon = await get_coupon(tx, ref)
    if coupon.status is CouponStatus.ARCHIVED:
        raise Conflict(f"coupon '{coupon.code}' is already archived", param="coupon")
    await repository.archive(tx, coupon.id)
    return await get_coupon(tx, coupon.id)


async def list_redemptions(tx: Tx, ref: str, *, limit: int, starting_after: str | None) -> list[Redemption]:
    coupon = await get_coupon(tx, ref)
    return await repository.list_redemptions(tx, coupon.id, limit=limit, starting_after=starting_after)


async def effect_on_topup(
    tx: Tx, code: str, *, customer_id: str, currency: str, amount: int, credit_unit: str, credits: int, step: int
) -> Effect:
    """What `code` does to a top-up of `amount` (before discount and tax) buying `credits` of `credit_unit`, or
    a coupon_* error. The discount is rounded half-up once to `step`, the smallest amount the gateway charges."""
    coupon = await _usable(tx, code, customer_id, AppliesTo.TOPUPS)
    # A bonus is in the unit of the credits bought; money off (and min_amount) in the money paid.
    unit, measured = (credit_unit, credits) if coupon.kind is CouponKind.BONUS_CREDITS else (currency, amount)
    _check_amount(coupon, unit, measured)
    return Effect(coupon, *_discount_and_bonus(coupon, amount, step))


async def effect_on_subscription(tx: Tx, code: str, *, customer_id: str, currency: str, amount: int) -> Coupon:
    """The coupon a new subscription to a plan of `amount` a period may take, or a coupon_* error."""
    coupon = await _usable(tx, code, customer_id, AppliesTo.SUBSCRIPTIONS)
    if coupon.kind is CouponKind.BONUS_CREDITS:
        raise CouponNotApplicable(f"coupon '{coupon.code}' gives credits with top-ups only", param="coupon")
    _check_amount(coupon, currency, amount)
    return coupon


def period_discount(coupon: Coupon, amount: int, currency: str) -> int:
    """A subscription coupon's money off one period's charge, rounded half-up once to the invoice's minor unit."""
    return _discount_and_bonus(coupon, amount, money.MICROS // 10 ** money.display_scale(currency))[0]


async def _usable(tx: Tx, code: str, customer_id: str, target: AppliesTo) -> Coupon:
    coupon = await repository.find_coupon(tx, code)
    if coupon is None or coupon.status is not CouponStatus.ACTIVE:
        raise CouponInvalid(f"'{code}' is not a coupon that can be used", param="coupon")
    if coupon.valid_from is not None and tx.now < coupon.valid_from:
        raise CouponInvalid(f"coupon '{coupon.code}' is not valid yet", param="coupon")
    if coupon.valid_until is not None and tx.now >= coupon.valid_until:
        raise CouponExpired(f"coupon '{coupon.code}' expired", param="coupon")
    if coupon.applies_to not in (target, AppliesTo.BOTH):
        raise CouponNotApplicable(f"coupon '{coupon.code}' applies to {coupon.applies_to} only", param="coupon")
    if coupon.customer_ids is not None and customer_id not in coupon.customer_ids:
        raise CouponNotApplicable(f"coupon '{coupon.code}' is not offered to this customer", param="coupon")
    if coupon.max_redemptions is not None and coupon.times_redeemed >= coupon.max_redemptions:
        raise CouponExhausted(f"coupon '{coupon.code}' has no redemptions left", param="coupon")
    return coupon


def _check_amount(coupon: Coupon, unit: str, measured: int) -> None:
    if coupon.currency is not None and coupon.currency != unit:
        raise CouponNotApplicable(f"coupon '{coupon.code}' is for {coupon.currency}, not {unit}", param="coupon")
    if coupon.min_amount is not None and measured < coupon.min_amount:
        shown = money.format(coupon.min_amount, unit)
        raise CouponNotApplicable(f"coupon '{coupon.code}' needs at least {shown} {unit}", param="coupon")


def _discount_and_bonus(coupon: Coupon, amount: int, step: int) -> tuple[int, int]:
    if coupon.kind is CouponKind.BONUS_CREDITS:
        return 0, coupon.value
    if coupon.kind is CouponKind.PERCENT_OFF:
        exact = Fraction(amount * coupon.value, HUNDRED_PERCENT * step)
        return (2 * exact.numerator + exact.denominator) // (2 * exact.denominator) * step, 0
    steps = Fraction(min(coupon.value, amount), step)
    return (2 * steps.numerator + steps.denominator) // (2 * steps.denominator) * step, 0


async def reserve(tx: Tx, effect: Effect, *, customer_id: str, topup_id: str, currency: str) -> Redemption:
    """Take one redemption for a checkout, or refuse (the caller's transaction then writes nothing)."""
    await _take(tx, effect.coupon, customer_id)
    await repository.insert_redemption(tx, {
        "id": new_id("red"), "coupon_id": effect.coupon.id, "customer_id": customer_id, "topup_id": topup_id,
        "subscription_id": None, "periods_left": None, "status": RedemptionStatus.RESERVED, "currency": currency,
        "discount": effect.discount, "bonus_credits": effect.bonus_credits, "over_limit": False,
    })
    redemption = await repository.redemption_of_topup(tx, topup_id)
    assert redemption is not None
    return redemption


async def redeem_for_subscription(tx: Tx, coupon: Coupon, *, customer_id: str, subscription_id: str) -> None:
    """A subscription takes its coupon at creation (no checkout to wait for): redeemed at once."""
    await _take(tx, coupon, customer_id)
    periods = {Duration.ONCE: 1, Duration.REPEATING: coupon.duration_periods, Duration.FOREVER: None}
    await repository.insert_redemption(tx, {
        "id": new_id("red"), "coupon_id": coupon.id, "customer_id": customer_id, "topup_id": None,
        "subscription_id": subscription_id, "periods_left": periods[coupon.duration],
        "status": RedemptionStatus.REDEEMED, "currency": coupon.currency or "", "discount": 0, "bonus_credits": 0,
        "over_limit": False,
    })


async def discount_for_period(tx: Tx, subscription_id: str, amount: int, currency: str) -> tuple[int, str | None]:
    """Money off this period's charge of `amount`, and the coupon's code for the invoice line; (0, None) when
    the subscription has no coupon, or it has run out. Writes nothing: a charge the balance refuses must not
    use up a period (see count_period)."""
    redemption = await repository.redemption_of_subscription(tx, subscription_id)
    if redemption is None or redemption.periods_left == 0:
        return 0, None
    coupon = await get_coupon(tx, redemption.coupon_id)
    return period_discount(coupon, amount, currency), coupon.code


async def count_period(tx: Tx, subscription_id: str) -> None:
    """A charged period took the discount: one fewer left (a forever coupon counts none)."""
    redemption = await repository.redemption_of_subscription(tx, subscription_id)
    if redemption is not None:
        await repository.use_period(tx, redemption.id)


async def _take(tx: Tx, coupon: Coupon, customer_id: str) -> None:
    if not await repository.take_one(tx, coupon.id):
        raise CouponExhausted(f"coupon '{coupon.code}' has no redemptions left", param="coupon")
    if await repository.claims_of(tx, coupon.id, customer_id) >= coupon.per_customer_limit:
        raise CouponExhausted(
            f"this customer has used coupon '{coupon.code}' {coupon.per_customer_limit} time(s), its limit",
            param="coupon",
        )


async def release(tx: Tx, topup_id: str) -> None:
    """The gateway ended the checkout unpaid: its redemption is free for someone else."""
    redemption = await repository.redemption_of_topup(tx, topup_id)
    if redemption is None:
        return
    if await repository.move_redemption(
        tx, redemption.id, allowed=RedemptionStatus.RESERVED, status=RedemptionStatus.RELEASED
    ):
        await repository.add_claims(tx, redemption.coupon_id, -1)


async def redeem(tx: Tx, topup_id: str) -> Redemption | None:
    """The top-up was paid: its coupon is honoured whatever happened since. A reservation released before (the
    checkout had expired) is counted again, past max_redemptions if need be, and then marked over_limit."""
    redemption = await repository.redemption_of_topup(tx, topup_id)
    if redemption is None:
        return None
    if redemption.status is RedemptionStatus.RELEASED:
        count = await repository.add_claims(tx, redemption.coupon_id, 1)
        coupon = await get_coupon(tx, redemption.coupon_id)
        over = coupon.max_redemptions is not None and count > coupon.max_redemptions
        await repository.move_redemption(
            tx, redemption.id, allowed=RedemptionStatus.RELEASED, status=RedemptionStatus.REDEEMED, over_limit=over
        )
    else:
        await repository.move_redemption(
            tx, redemption.id, allowed=RedemptionStatus.RESERVED, status=RedemptionStatus.REDEEMED
        )
    return await repository.redemption_of_topup(tx, topup_id)


def check_total(total: int, currency: str, step: int) -> None:
    """After the discount something must still be paid: at least the gateway's smallest charge."""
    if total < step:
        raise CouponNotApplicable(
            f"after the discount the total, {money.format(total, currency)} {currency}, is under the smallest "
            f"charge of {money.format(step, currency)} {currency}", param="coupon",
        )


def bonus_expiry(coupon: Coupon, now: datetime) -> datetime | None:
    days = coupon.bonus_expires_in_days
    return None if days is None else now + timedelta(days=days)


def check_definition(kind: CouponKind, value: int, currency: str | None, min_amount: int | None) -> None:
    """Rules across fields: amount_off, bonus_credits and min_amount need a currency; a percentage is at most 100."""
    if (kind is not CouponKind.PERCENT_OFF or min_amount is not None) and currency is None:
        raise InvalidRequest(f"a {kind} coupon (or one with min_amount) needs a currency", param="currency")
    if kind is CouponKind.PERCENT_OFF and value > HUNDRED_PERCENT:
        raise InvalidRequest("percent_off is at most 100", param="value")


def check_duration(kind: CouponKind, applies_to: AppliesTo, duration: Duration, periods: int | None) -> None:
    """duration_periods goes with repeating only; a subscription coupon takes money off (no bonus credits)."""
    if (duration is Duration.REPEATING) != (periods is not None):
        raise InvalidRequest(
            "duration_periods is given with duration repeating, and only then", param="duration_periods"
        )
    if kind is CouponKind.BONUS_CREDITS and applies_to is not AppliesTo.TOPUPS:
        raise InvalidRequest("a bonus_credits coupon applies to topups only", param="applies_to")
