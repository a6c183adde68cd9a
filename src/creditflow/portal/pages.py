"""/portal: the overview, opening a link or a JWT into a session, signing out, and wiring every page."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.invoices.totals import from_minor
from creditflow.portal import page_accounts, page_billing, page_keys, page_lists, service, views
from creditflow.portal.models import FLOW_PATHS, Flow
from creditflow.portal.page_context import (
    TEMPLATES,
    SignedOut,
    checked_form,
    customer_page,
    render,
    render_plain,
)
from creditflow.web.formatting import format_money
from creditflow.web.sessions import COOKIE_NAME, clear_session_cookie, end_session, set_session_cookie
from creditflow.web.templates import Pages, static_files

router = APIRouter(include_in_schema=False)


@router.get("/portal")
async def overview(request: Request, token: str | None = None) -> Response:
    """The balance first; `?token=` (an operator-minted link, or a customer JWT) opens a session first."""
    if token is not None:
        return await _open(request, token)
    async with customer_page(request) as ctx:
        data = await views.overview(ctx.tx, ctx.customer)
        return render(ctx, "portal/overview.html", "overview", data=data, chart=data.chart.as_json())


async def _open(request: Request, token: str) -> Response:
    state = request.app.state
    try:
        async with state.engine.begin() as conn:
            session, secret, used = await service.open_link(
                Tx(conn=conn, now=state.clock.now(), actor="portal"), state.settings, token
            )
    except DomainError as error:
        return render_plain(request, "portal/link_unusable.html", status_code=410, message=error.message)
    # A clean URL: the token never stays in the address bar, history or a Referer.
    target = FLOW_PATHS.get(Flow(used.flow), "/portal") if used.flow else "/portal"
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, state.settings, secret)
    del session
    return response


@router.post("/portal/logout")
async def logout(request: Request) -> Response:
    async with customer_page(request) as ctx:
        await checked_form(ctx)
        await end_session(ctx.tx, ctx.session.id)
    response = render_plain(request, "portal/signed_out.html", message="You have signed out.")
    clear_session_cookie(response)
    return response


@router.get("/portal/brand.css")
async def brand_css(request: Request) -> Response:
    """The accent colour as a stylesheet: the CSP allows no inline styles."""
    settings: Settings = request.app.state.settings
    return Response(
        f":root {{ --accent: {settings.brand_accent_color}; }}\n", media_type="text/css",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def _signed_out(request: Request, _: Exception) -> HTMLResponse:
    if request.app.state.settings.portal_signup:
        return RedirectResponse("/portal/login", status_code=303)  # type: ignore[return-value]
    response = render_plain(
        request, "portal/signed_out.html", status_code=401,
        message="Your billing session has ended. Open the billing link from your account again.",
    )
    if COOKIE_NAME in request.cookies:
        clear_session_cookie(response)
    return response


def install_portal(app: FastAPI, settings: Settings) -> None:
    pages = Pages(settings, TEMPLATES)
    # Invoices keep minor units (cents); every other amount on the pages is in micro-units.
    pages.env.filters["invoice_money"] = lambda minor, currency, locale="": format_money(
        from_minor(minor, currency), currency, locale
    )
    app.state.portal_pages = pages
    for page_router in (
        router, page_billing.router, page_lists.router, page_keys.router, page_accounts.router,
        page_accounts.api_router,
    ):
        app.include_router(page_router)
    app.add_exception_handler(SignedOut, _signed_out)
    app.mount("/static", static_files(), name="static")
