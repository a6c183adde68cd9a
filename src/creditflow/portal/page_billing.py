"""Buying credits: packages or an amount, a preview priced by the server's own rules (htmx), the gateway's
checkout opened in the top window, and a payment page that shows pending until the webhook has credited."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from creditflow import money
from creditflow.errors import DomainError, InvalidRequest
from creditflow.payments.gateways.registry import public_url
from creditflow.portal import service
from creditflow.portal.page_context import PageContext, checked_form, customer_page, render
from creditflow.topups import packages
from creditflow.topups import service as topups
from creditflow.topups.context import request_context
from creditflow.topups.models import Topup
from creditflow.topups.rules import Quote

router = APIRouter(include_in_schema=False)
CUSTOM = "custom"


async def _offer(ctx: PageContext) -> dict[str, Any]:
    found = await packages.list_packages(ctx.tx, status="active", limit=50, starting_after=None)
    gateways = service.portal_gateways(ctx.request.app.state.gateways, ctx.settings)
    rule = ctx.settings.topup_rules.get(ctx.customer.currency)
    return {
        "packages": [p for p in found if p.currency == ctx.customer.currency], "gateways": gateways,
        "currency": ctx.customer.currency, "limits": rule,
    }


@router.get("/portal/buy")
async def buy_page(request: Request) -> Response:
    async with customer_page(request) as ctx:
        offer = await _offer(ctx)
        chosen = {"choice": offer["packages"][0].id if offer["packages"] else CUSTOM, "amount": "", "gateway": ""}
        return render(ctx, "portal/buy.html", "buy", form=chosen, errors={}, **offer)


def _order(form: dict[str, str], currency: str) -> tuple[str | None, int | None]:
    """(package, amount) from the form: a package's id, or 'custom' with an amount in the customer's currency."""
    choice = form.get("choice", "")
    if choice and choice != CUSTOM:
        return choice, None
    try:
        amount = money.parse(form.get("amount", ""))
    except money.MoneyError as error:
        raise InvalidRequest(f"Enter an amount in {currency}, such as 25 or 25.50", param="amount") from error
    if amount <= 0:
        raise InvalidRequest("Enter an amount greater than zero", param="amount")
    return None, amount


async def _quote(ctx: PageContext, form: dict[str, str]) -> Quote:
    gateways = ctx.request.app.state.gateways
    gateway_name = form.get("gateway") or next(iter(service.portal_gateways(gateways, ctx.settings)), "")
    service.check_portal_gateway(gateways, ctx.settings, gateway_name)
    package, amount = _order(form, ctx.customer.currency)
    priced, _ = await topups.price_order(
        ctx.tx, ctx.settings, gateways.get(gateway_name), package_id=package, amount=amount,
        currency=ctx.customer.currency,
    )
    return priced


@router.get("/portal/buy/preview")
async def preview(request: Request) -> Response:
    """The order's tax, bonus and total, as an HTML fragment for htmx; priced exactly as the order will be."""
    form = dict(request.query_params.items())
    async with customer_page(request) as ctx:
        try:
            priced = await _quote(ctx, form)
        except DomainError as error:
            return render(ctx, "portal/_preview.html", "buy", quote=None, error=error.message)
        return render(ctx, "portal/_preview.html", "buy", quote=priced, error=None)


@router.post("/portal/buy")
async def buy(request: Request) -> Response:
    """Open the order with the gateway (outside any transaction), then show where to pay."""
    async with customer_page(request) as ctx:
        form = await checked_form(ctx)
        offer = await _offer(ctx)
        try:
            await _quote(ctx, form)
        except DomainError as error:
            errors = {error.param or "amount": error.message}
            return render(ctx, "portal/buy.html", "buy", status_code=422, form=form, errors=errors, **offer)
        customer_id = ctx.customer.id
    package, amount = _order(form, ctx.customer.currency)
    try:
        topup = await topups.create_topup(
            request_context(request, f"customer:{customer_id}"), customer=customer_id, gateway_name=form["gateway"],
            package_id=package, amount=amount, currency=None if package else ctx.customer.currency,
            return_url=f"{public_url(ctx.settings)}/portal/payment",
        )
    except DomainError as error:
        async with customer_page(request) as ctx:
            errors = {"gateway": f"The payment could not be started: {error.message}"}
            return render(ctx, "portal/buy.html", "buy", status_code=502, form=form, errors=errors, **offer)
    return RedirectResponse(f"/portal/payment?topup_id={topup.id}", status_code=303)


async def _own_topup(ctx: PageContext, topup_id: str) -> Topup | None:
    try:
        found = await topups.get_topup(ctx.tx, topup_id)
    except DomainError:
        return None
    return found if found.customer_id == ctx.customer.id else None


@router.get("/portal/payment")
async def payment(request: Request, topup_id: str = "") -> Response:
    """Where a gateway sends the customer back. The status shown is ours (the webhook's), never the query's."""
    async with customer_page(request) as ctx:
        topup = await _own_topup(ctx, topup_id)
        if topup is None:
            return render(ctx, "portal/payment.html", "buy", status_code=404, topup=None)
        return render(ctx, "portal/payment.html", "buy", topup=topup)


@router.get("/portal/payment/status")
async def payment_status(request: Request, topup_id: str = "") -> Response:
    """The status panel alone, polled by htmx while the payment is pending."""
    async with customer_page(request) as ctx:
        topup = await _own_topup(ctx, topup_id)
        return render(ctx, "portal/_payment_status.html", "buy", topup=topup)
