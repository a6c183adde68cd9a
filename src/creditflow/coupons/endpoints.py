"""Coupon endpoints: create, list, read, archive, its redemptions, and a preview of its effect on a top-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from creditflow.coupons import service
from creditflow.coupons.models import CouponStatus
from creditflow.coupons.schemas import CouponCreate, CouponOut, CouponPreviewOut, CouponPreviewRequest, RedemptionOut
from creditflow.customers.service import get_customer
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.invoices.totals import from_minor as invoice_minor_unit
from creditflow.topups.rules import quote

router = APIRouter(prefix="/v1/coupons", tags=["coupons"], route_class=UnitOfWorkRoute, dependencies=[require_operator])


@router.post("", status_code=status.HTTP_201_CREATED, response_model=CouponOut)
async def create_coupon(body: CouponCreate, tx: TxDep) -> CouponOut:
    """A coupon or promotion code, redeemed through `coupon` on POST /v1/topups."""
    coupon = await service.create_coupon(
        tx, code=body.code, kind=body.kind, value=body.value, currency=body.currency, applies_to=body.applies_to,
        max_redemptions=body.max_redemptions, per_customer_limit=body.per_customer_limit,
        valid_from=body.valid_from, valid_until=body.valid_until, min_amount=body.min_amount,
        customers=body.customers, bonus_expires_in_days=body.bonus_expires_in_days, duration=body.duration,
        duration_periods=body.duration_periods, metadata=body.metadata,
    )
    return CouponOut.of(coupon)


@router.get("", response_model=Page[CouponOut])
async def list_coupons(
    tx: TxDep, page: PageDep, status: Annotated[CouponStatus | None, Query()] = None
) -> Page[CouponOut]:
    found = await service.list_coupons(tx, status=status, limit=page.fetch, starting_after=page.starting_after)
    return page_of([CouponOut.of(c) for c in found], page.limit)


@router.get("/{coupon}", response_model=CouponOut)
async def get_coupon(coupon: str, tx: TxDep) -> CouponOut:
    """`coupon` is the id or the code."""
    return CouponOut.of(await service.get_coupon(tx, coupon))


@router.post("/{coupon}/archive", response_model=CouponOut)
async def archive_coupon(coupon: str, tx: TxDep) -> CouponOut:
    return CouponOut.of(await service.archive_coupon(tx, coupon))


@router.get("/{coupon}/redemptions", response_model=Page[RedemptionOut])
async def list_redemptions(coupon: str, tx: TxDep, page: PageDep) -> Page[RedemptionOut]:
    found = await service.list_redemptions(tx, coupon, limit=page.fetch, starting_after=page.starting_after)
    return page_of([RedemptionOut.of(r) for r in found], page.limit)


@router.post("/{coupon}/preview", response_model=CouponPreviewOut)
async def preview_coupon(coupon: str, body: CouponPreviewRequest, tx: TxDep, settings: SettingsDep) -> CouponPreviewOut:
    """What the coupon would do to a top-up of `amount`, priced by the currency's rules; nothing is reserved.
    Refused with the error a top-up would get (coupon_invalid, coupon_expired, coupon_exhausted,
    coupon_not_applicable). Rounded to the invoice's minor unit (a gateway with a coarser unit rounds to its own)."""
    owner = await get_customer(tx, body.customer)
    rule, step = settings.topup_rules.get(body.currency), invoice_minor_unit(1, body.currency)
    undiscounted = quote(rule, currency=body.currency, amount=body.amount, step=step)
    effect = await service.effect_on_topup(
        tx, coupon, customer_id=owner.id, currency=body.currency, amount=body.amount,
        credit_unit=undiscounted.credit_unit, credits=undiscounted.credits, step=step,
    )
    priced = quote(rule, currency=body.currency, amount=body.amount, step=step, discount=effect.discount)
    service.check_total(priced.total, body.currency, step)
    return CouponPreviewOut.of(effect.coupon.code, priced, effect.bonus_credits)
