"""/v1/portal: one customer's own data, for the customer's browser or app. Thin: each route calls the same
service as /v1 and answers with an allow-listed schema; another customer's id is a 404, never data."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.security import HTTPBearer
from pydantic import AwareDatetime

from creditflow.apikeys import service as api_keys
from creditflow.apikeys.schemas import ApiKeyCreated, ApiKeyOut
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Invoice
from creditflow.invoices.schemas import InvoiceOut
from creditflow.ledger.history import list_operations
from creditflow.metering.schemas import UsageOut
from creditflow.metering.usage import usage_report
from creditflow.portal import service
from creditflow.portal.models import Principal
from creditflow.portal.routing import PortalGatewayRoute, PortalRoute, principal_of
from creditflow.portal.schemas import (
    PortalApiKeyCreate,
    PortalCustomer,
    PortalInvoice,
    PortalPackage,
    PortalSessionCreate,
    PortalSessionOut,
    PortalTopup,
    PortalTopupCreate,
    PortalTransaction,
    PortalWallet,
)
from creditflow.subscriptions import service as subscriptions
from creditflow.subscriptions.schemas import SubscriptionOut
from creditflow.topups import packages
from creditflow.topups import service as topups
from creditflow.topups.context import request_context
from creditflow.topups.models import Topup
from creditflow.topups.schemas import PackageOut, TopupOut
from creditflow.wallets.service import customer_wallets


def _principal(request: Request, tx: TxDep) -> Principal:
    principal = principal_of(request)
    tx.actor = f"customer:{principal.customer_id}"
    return principal


PrincipalDep = Annotated[Principal, Depends(_principal)]

operator_router = APIRouter(
    prefix="/v1/customers/{customer}/portal_sessions", tags=["portal"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)
# Documents the credential; PortalRoute checks it (a customer API key, a customer JWT or a session token).
_customer_bearer = Depends(
    HTTPBearer(
        auto_error=False, scheme_name="CustomerCredential",
        description="A customer API key (cf_ck_...), a customer JWT, or a token from POST /v1/portal/login.",
    )
)
router = APIRouter(
    prefix="/v1/portal", tags=["portal"], route_class=PortalRoute, dependencies=[_customer_bearer]
)
gateway_router = APIRouter(
    prefix="/v1/portal", tags=["portal"], route_class=PortalGatewayRoute, dependencies=[_customer_bearer]
)


@operator_router.post("", status_code=status.HTTP_201_CREATED, response_model=PortalSessionOut)
async def create_portal_session(
    customer: str, body: PortalSessionCreate, tx: TxDep, settings: SettingsDep
) -> PortalSessionOut:
    """A single-use link that opens the customer's portal; send the customer's browser to `url`."""
    link = await service.mint_link(
        tx, settings, customer, expires_in=body.expires_in, flow=body.flow, return_url=body.return_url
    )
    return PortalSessionOut(url=link.url, expires_at=link.expires_at)


@router.get("/customer", response_model=PortalCustomer)
async def get_own_customer(principal: PrincipalDep, tx: TxDep) -> PortalCustomer:
    return PortalCustomer.of(await get_customer(tx, principal.customer_id))


@router.get("/wallets", response_model=list[PortalWallet])
async def list_own_wallets(principal: PrincipalDep, tx: TxDep) -> list[PortalWallet]:
    return [PortalWallet.of(view) for view in await customer_wallets(tx, principal.customer_id)]


@router.get("/transactions", response_model=Page[PortalTransaction])
async def list_own_transactions(principal: PrincipalDep, tx: TxDep, page: PageDep) -> Page[PortalTransaction]:
    found = await list_operations(
        tx, customer_id=principal.customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([PortalTransaction.of(op) for op in found], page.limit)


@router.get("/usage", response_model=UsageOut)
async def own_usage(
    principal: PrincipalDep,
    tx: TxDep,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
    metric: str | None = None,
    group_by: Annotated[Literal["hour", "day", "metric"], Query()] = "day",
) -> UsageOut:
    """The same report as the operator's GET /v1/customers/{customer}/usage."""
    report = await usage_report(tx, principal.customer_id, start=start, end=end, metric=metric, group_by=group_by)
    return UsageOut.of(report)


async def own_invoice(tx: Tx, principal: Principal, invoice_id: str) -> Invoice:
    found = await invoices.get_invoice(tx, invoice_id)
    # Drafts are the operator's work in progress: a customer sees an invoice once it is issued.
    if found.customer_id != principal.customer_id or found.status == "draft":
        raise service.not_yours("invoice", invoice_id)
    return found


@router.get("/invoices", response_model=Page[PortalInvoice])
async def list_own_invoices(principal: PrincipalDep, tx: TxDep, page: PageDep) -> Page[PortalInvoice]:
    found = await invoices.list_invoices(
        tx, customer_id=principal.customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    issued = [PortalInvoice.allow_listed(InvoiceOut.of(i)) for i in found if i.status != "draft"]
    return page_of(issued, page.limit)


@router.get("/invoices/{invoice_id}", response_model=PortalInvoice)
async def get_own_invoice(invoice_id: str, principal: PrincipalDep, tx: TxDep) -> PortalInvoice:
    return PortalInvoice.allow_listed(InvoiceOut.of(await own_invoice(tx, principal, invoice_id)))


@router.get(
    "/invoices/{invoice_id}/pdf", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF document."}},
)
async def get_own_invoice_pdf(invoice_id: str, principal: PrincipalDep, tx: TxDep) -> Response:
    from creditflow.invoices.pdf import render_invoice  # fpdf2 is imported on the first PDF, not at start

    invoice = await own_invoice(tx, principal, invoice_id)
    return Response(
        render_invoice(invoice), media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{invoice.number or invoice.id}.pdf"'},
    )


@router.get("/packages", response_model=Page[PortalPackage])
async def list_packages(_: PrincipalDep, tx: TxDep, page: PageDep) -> Page[PortalPackage]:
    found = await packages.list_packages(tx, status="active", limit=page.fetch, starting_after=page.starting_after)
    return page_of([PortalPackage.allow_listed(PackageOut.of(p)) for p in found], page.limit)


@router.get("/gateways", response_model=list[str])
async def list_gateways(_: PrincipalDep, request: Request, settings: SettingsDep) -> list[str]:
    """The gateways a customer may pay with (the sandbox only when the operator allows it)."""
    return service.portal_gateways(request.app.state.gateways, settings)


async def own_topup(tx: Tx, principal: Principal, topup_id: str) -> Topup:
    found = await topups.get_topup(tx, topup_id)
    if found.customer_id != principal.customer_id:
        raise service.not_yours("top-up", topup_id)
    return found


@router.get("/topups/{topup_id}", response_model=PortalTopup)
async def get_own_topup(topup_id: str, principal: PrincipalDep, tx: TxDep) -> PortalTopup:
    return PortalTopup.allow_listed(TopupOut.of(await own_topup(tx, principal, topup_id)))


@gateway_router.post("/topups", status_code=status.HTTP_201_CREATED, response_model=PortalTopup)
async def create_own_topup(body: PortalTopupCreate, request: Request) -> PortalTopup:
    """Buy credits: the same top-up as POST /v1/topups, for this customer, on a gateway the portal offers."""
    principal = principal_of(request)
    settings = request.app.state.settings
    service.check_portal_gateway(request.app.state.gateways, settings, body.gateway)
    if body.return_url is not None:
        service.check_return_url(settings, body.return_url)
    topup = await topups.create_topup(
        request_context(request, f"customer:{principal.customer_id}"), customer=principal.customer_id,
        gateway_name=body.gateway, package_id=body.package, amount=body.amount, currency=body.currency,
        return_url=body.return_url,
    )
    return PortalTopup.allow_listed(TopupOut.of(topup))


@router.get("/api_keys", response_model=Page[ApiKeyOut])
async def list_own_api_keys(principal: PrincipalDep, tx: TxDep, page: PageDep) -> Page[ApiKeyOut]:
    keys = await api_keys.list_api_keys(
        tx, principal.customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([ApiKeyOut.of(k, tx.now) for k in keys], page.limit)


@router.post("/api_keys", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_own_api_key(body: PortalApiKeyCreate, principal: PrincipalDep, tx: TxDep) -> ApiKeyCreated:
    """A new key for this customer, read-only on /v1/portal; `key` is shown in this answer only."""
    rate_limit = (body.rate_limit.requests, body.rate_limit.per) if body.rate_limit else None
    key, secret = await api_keys.create_api_key(tx, principal.customer_id, name=body.name, rate_limit=rate_limit)
    return ApiKeyCreated.created(key, secret, tx.now)


@router.post("/api_keys/{api_key_id}/revoke", response_model=ApiKeyOut)
async def revoke_own_api_key(api_key_id: str, principal: PrincipalDep, tx: TxDep) -> ApiKeyOut:
    return ApiKeyOut.of(await api_keys.revoke_api_key(tx, principal.customer_id, api_key_id), tx.now)


@router.get("/subscriptions", response_model=Page[SubscriptionOut])
async def list_own_subscriptions(principal: PrincipalDep, tx: TxDep, page: PageDep) -> Page[SubscriptionOut]:
    found = await subscriptions.list_subscriptions(
        tx, customer_id=principal.customer_id, status=None, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([SubscriptionOut.of(s) for s in found], page.limit)


@router.post("/subscriptions/{subscription_id}/cancel", response_model=SubscriptionOut)
async def cancel_own_subscription(subscription_id: str, principal: PrincipalDep, tx: TxDep) -> SubscriptionOut:
    """Cancel at the end of the current period: what was paid for stays usable until then."""
    found = await subscriptions.get_subscription(tx, subscription_id)
    if found.customer_id != principal.customer_id:
        raise service.not_yours("subscription", subscription_id)
    return SubscriptionOut.of(await subscriptions.cancel_subscription(tx, subscription_id, at_period_end=True))
