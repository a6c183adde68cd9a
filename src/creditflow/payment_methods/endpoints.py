"""Saved payment method endpoints. Detach and charge call the gateway, so they run on GatewayCallRoute (no
request transaction); list and default run in the request's unit of work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response, status

from creditflow.errors import IdempotencyKeyRequired
from creditflow.http.deps import PageDep, TxDep, declare_bearer, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.http.url_values import QueryBool
from creditflow.payment_methods import service
from creditflow.payment_methods.schemas import ChargeOut, PaymentMethodCharge, PaymentMethodOut
from creditflow.topups.context import request_context
from creditflow.topups.routing import GatewayCallRoute, operator_actor

PREFIX = "/v1/customers/{customer}/payment_methods"
router = APIRouter(
    prefix=PREFIX, tags=["payment methods"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
gateway_router = APIRouter(
    prefix=PREFIX, tags=["payment methods"], route_class=GatewayCallRoute, dependencies=[declare_bearer]
)

_GATEWAY_ERRORS = {
    502: {"description": "gateway_refused: the gateway said no"},
    503: {"description": "gateway_unavailable: the gateway could not be reached; retry"},
}


@router.get("", response_model=Page[PaymentMethodOut])
async def list_payment_methods(
    customer: str, tx: TxDep, page: PageDep,
    include_detached: Annotated[QueryBool, Query(description="Detached methods too.")] = False,
) -> Page[PaymentMethodOut]:
    """The customer's saved methods, newest first: saved by paid top-ups that asked for it (`save_payment_method`)."""
    found = await service.list_payment_methods(
        tx, customer, include_detached=include_detached, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([PaymentMethodOut.of(method) for method in found], page.limit)


@router.post(
    "/{payment_method_id}/default", response_model=PaymentMethodOut,
    responses={409: {"description": "payment_method_detached"}},
)
async def make_default_payment_method(customer: str, payment_method_id: str, tx: TxDep) -> PaymentMethodOut:
    """Make the method the customer's default, the one auto top-up charges."""
    return PaymentMethodOut.of(await service.make_default(tx, customer, payment_method_id))


@gateway_router.delete("/{payment_method_id}", response_model=PaymentMethodOut, responses=_GATEWAY_ERRORS)
async def detach_payment_method(customer: str, payment_method_id: str, request: Request) -> PaymentMethodOut:
    """Detach the method at the gateway, then here: it can no longer be charged. A detached method answers as it
    is. If it was the default, the newest other active method becomes the default. If the gateway cannot be
    reached or refuses, nothing changes here."""
    method = await service.detach(request_context(request, operator_actor(request)), customer, payment_method_id)
    return PaymentMethodOut.of(method)


@gateway_router.post(
    "/{payment_method_id}/charge", status_code=status.HTTP_201_CREATED, response_model=ChargeOut,
    responses={
        **_GATEWAY_ERRORS,
        202: {"model": ChargeOut, "description": "The top-up is pending: see `outcome`."},
        402: {"description": "card_declined (or charge_failed): the top-up (details.topup) is failed, nothing was "
                             "credited"},
        409: {"description": "payment_method_detached, or idempotency_key_reused for another charge"},
    },
)
async def charge_payment_method(
    customer: str, payment_method_id: str, body: PaymentMethodCharge, request: Request, response: Response,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="Required: a retry under it never charges twice.")
    ] = None,
) -> ChargeOut:
    """Top up by charging the saved card off-session, now. The order is priced like POST /v1/topups; 201 when
    it is paid and credited, 202 when it is pending (the customer's bank wants the customer, or the payment is
    still processing)."""
    if idempotency_key is None:
        raise IdempotencyKeyRequired(
            "charging a saved payment method needs an Idempotency-Key header", param="Idempotency-Key"
        )
    result = await service.charge_saved(
        request_context(request, operator_actor(request)), customer=customer, payment_method_id=payment_method_id,
        idempotency_key=idempotency_key, package_id=body.package, amount=body.amount, currency=body.currency,
    )
    topup = result.topup
    if result.outcome in (service.DECLINED, service.EXPIRED_UNPAID):
        error = service.CardDeclined if result.outcome == service.DECLINED else service.ChargeFailed
        raise error(
            f"top-up {topup.id} was not paid: {topup.failure_reason or result.outcome}",
            details={"topup": topup.id, "reason": topup.failure_reason},
        )
    if result.outcome != service.PAID:
        response.status_code = status.HTTP_202_ACCEPTED
    return ChargeOut.of(result.outcome, payment_method_id, topup)
