"""Package and top-up endpoints. Those that call a gateway run on GatewayCallRoute (no request transaction)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, status

from creditflow.customers.service import get_customer
from creditflow.http.deps import PageDep, SettingsDep, TxDep, declare_bearer, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.topups import packages, refunds, service
from creditflow.topups.context import request_context
from creditflow.topups.routing import GatewayCallRoute, operator_actor
from creditflow.topups.schemas import (
    PackageCreate,
    PackageOut,
    TopupCreate,
    TopupOut,
    TopupRefundCreate,
    TopupRefundOut,
    TopupStatus,
    TopupVerify,
)

packages_router = APIRouter(
    prefix="/v1/packages", tags=["top-ups"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
router = APIRouter(prefix="/v1/topups", tags=["top-ups"], route_class=UnitOfWorkRoute, dependencies=[require_operator])
gateway_router = APIRouter(
    prefix="/v1/topups", tags=["top-ups"], route_class=GatewayCallRoute, dependencies=[declare_bearer]
)

_GATEWAY_ERRORS = {
    502: {"description": "gateway_refused: the gateway said no; the top-up is failed"},
    503: {"description": "gateway_unavailable: the gateway could not be reached; retry"},
}


@packages_router.post("", status_code=status.HTTP_201_CREATED, response_model=PackageOut)
async def create_package(body: PackageCreate, tx: TxDep, settings: SettingsDep) -> PackageOut:
    """A price in money for credits; its price must be within the currency's top-up limits."""
    package = await packages.create_package(
        tx, name=body.name, price=body.price.amount, currency=body.price.currency, credits=body.credits,
        credit_unit=body.currency_of_credits, bonus_credits=body.bonus_credits, rules=settings.topup_rules,
    )
    return PackageOut.of(package)


@packages_router.get("", response_model=Page[PackageOut])
async def list_packages(
    tx: TxDep, page: PageDep, status: Annotated[Literal["active", "archived"] | None, Query()] = None
) -> Page[PackageOut]:
    found = await packages.list_packages(tx, status=status, limit=page.fetch, starting_after=page.starting_after)
    return page_of([PackageOut.of(package) for package in found], page.limit)


@packages_router.get("/{package_id}", response_model=PackageOut)
async def get_package(package_id: str, tx: TxDep) -> PackageOut:
    return PackageOut.of(await packages.get_package(tx, package_id))


@packages_router.post("/{package_id}/archive", response_model=PackageOut)
async def archive_package(package_id: str, tx: TxDep) -> PackageOut:
    """No new top-ups from it; top-ups already made are unaffected."""
    return PackageOut.of(await packages.archive_package(tx, package_id))


@gateway_router.post("", status_code=status.HTTP_201_CREATED, response_model=TopupOut, responses=_GATEWAY_ERRORS)
async def create_topup(body: TopupCreate, request: Request) -> TopupOut:
    """Open a checkout with the gateway. The top-up is `pending` until the gateway reports the payment."""
    topup = await service.create_topup(
        request_context(request, operator_actor(request)), customer=body.customer, gateway_name=body.gateway,
        package_id=body.package, amount=body.amount, currency=body.currency, return_url=body.return_url,
        save_payment_method=body.save_payment_method, coupon=body.coupon,
    )
    return TopupOut.of(topup)


@router.get("", response_model=Page[TopupOut])
async def list_topups(
    tx: TxDep, page: PageDep,
    customer: Annotated[str | None, Query(description="Id or external_id.")] = None,
    status: Annotated[TopupStatus | None, Query()] = None,
) -> Page[TopupOut]:
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await service.list_topups(
        tx, customer_id=customer_id, status=status, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([TopupOut.of(topup) for topup in found], page.limit)


@router.get("/{topup_id}", response_model=TopupOut)
async def get_topup(topup_id: str, tx: TxDep) -> TopupOut:
    return TopupOut.of(await service.get_topup(tx, topup_id))


@gateway_router.post("/{topup_id}/verify", response_model=TopupOut, responses=_GATEWAY_ERRORS)
async def verify_topup(topup_id: str, body: TopupVerify, request: Request) -> TopupOut:
    """Razorpay checkout.js's result: checked against this top-up's order, confirmed with Razorpay, credited once."""
    topup = await service.verify_checkout(
        request_context(request, operator_actor(request)), topup_id, order_id=body.razorpay_order_id,
        payment_id=body.razorpay_payment_id, signature=body.razorpay_signature,
    )
    return TopupOut.of(topup)


@gateway_router.post(
    "/{topup_id}/refund", status_code=status.HTTP_201_CREATED, response_model=TopupRefundOut,
    responses={**_GATEWAY_ERRORS, 409: {"description": "refund_exceeds_refundable (details.refundable), "
                                                      "topup_not_refundable or refund_in_progress"}},
)
async def refund_topup(topup_id: str, request: Request, body: TopupRefundCreate | None = None) -> TopupRefundOut:
    """Give back money for the top-up's unspent credits; those credits (and the same share of its bonus) leave
    the wallet. Midtrans bank transfers cannot be refunded through its API: the top-up becomes refund_manual."""
    refund, topup = await refunds.refund_topup(
        request_context(request, operator_actor(request)), topup_id, amount=body.amount if body else None,
        reason=body.reason if body else None,
    )
    return TopupRefundOut.of(refund, topup)
