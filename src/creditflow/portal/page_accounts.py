"""Sign up, log in, forgotten password: HTML at /portal/signup|login|forgot|reset, JSON at /v1/portal/signup
and /v1/portal/login (for apps: the answer's token is a Bearer credential for /v1/portal).

Off unless CREDITFLOW_PORTAL_SIGNUP=true. There is no session yet, so these forms are checked by Origin."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status
from fastapi.responses import RedirectResponse

from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.errors import DomainError, Forbidden, NotFound
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.portal import accounts
from creditflow.portal.models import Via
from creditflow.portal.page_context import PageContext, read_form, render, render_plain
from creditflow.portal.schemas import PortalLogin, PortalSignup, PortalToken
from creditflow.web.client_ip import client_ip
from creditflow.web.csrf import same_origin
from creditflow.web.sessions import WebSession, set_session_cookie, start_session

router = APIRouter(include_in_schema=False)
api_router = APIRouter(prefix="/v1/portal", tags=["portal"], route_class=UnitOfWorkRoute)


def _enabled(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    if not settings.portal_signup:
        raise NotFound("sign-up and log-in are not enabled on this server (CREDITFLOW_PORTAL_SIGNUP)")
    return settings


async def _guard(request: Request, tx: Tx, kind: str, email: str = "") -> None:
    settings = _enabled(request)
    limiter = request.app.state.rate_limiter
    ip = client_ip(request, settings)
    if kind == "signup":
        await accounts.limit(limiter, f"signup:{ip}", settings.portal_signup_per_hour, 3600, tx)
        return
    keys = [f"{kind}:ip:{ip}"] + ([f"{kind}:email:{email.strip().lower()}"] if email else [])
    for key in keys:
        await accounts.limit(limiter, key, settings.portal_login_per_15min, accounts.LOGIN_WINDOW_SECONDS, tx)


async def _new_session(request: Request, tx: Tx, customer_id: str) -> tuple[WebSession, str]:
    """Always a new session id at log-in: never one the browser brought along."""
    hours = request.app.state.settings.portal_session_hours
    return await start_session(tx, customer_id, via=Via.SESSION, lifetime=timedelta(hours=hours))


async def _form_page(request: Request, template: str, work) -> Response:  # type: ignore[no-untyped-def]
    """Run a pre-session form: Origin checked, one transaction, errors shown next to their field."""
    _enabled(request)
    form = await read_form(request)
    if not same_origin(request, request.app.state.settings):
        raise Forbidden("this form was sent from another site", param="origin")
    state = request.app.state
    try:
        async with state.engine.begin() as conn:
            return await work(Tx(conn=conn, now=state.clock.now(), actor="portal"), form)
    except DomainError as error:
        errors = {error.param or "email": error.message}
        return render_plain(request, template, status_code=422, errors=errors, form=form)


@router.get("/portal/signup")
async def signup_page(request: Request) -> Response:
    _enabled(request)
    return render_plain(request, "portal/signup.html", errors={}, form={})


@router.post("/portal/signup")
async def signup(request: Request) -> Response:
    async def work(tx: Tx, form: dict[str, str]) -> Response:
        await _guard(request, tx, "signup")
        settings = request.app.state.settings
        made = await accounts.sign_up(tx, settings, form.get("email", ""), form.get("password", ""))
        session, secret = await _new_session(request, tx, made.customer.id)
        response: Response = RedirectResponse("/portal", status_code=303)
        if made.first_key:
            # The first key is shown in this answer only: it is never stored, nor put in a URL.
            ctx = PageContext(request, tx, session, made.customer, settings)
            response = render(ctx, "portal/welcome.html", "api_keys", status_code=201, secret=made.first_key)
        set_session_cookie(response, request, settings, secret)
        return response

    return await _form_page(request, "portal/signup.html", work)


@router.get("/portal/login")
async def login_page(request: Request) -> Response:
    _enabled(request)
    return render_plain(request, "portal/login.html", errors={}, form={})


@router.post("/portal/login")
async def login(request: Request) -> Response:
    async def work(tx: Tx, form: dict[str, str]) -> Response:
        await _guard(request, tx, "login", form.get("email", ""))
        customer_id = await accounts.log_in(tx, form.get("email", ""), form.get("password", ""))
        _, secret = await _new_session(request, tx, customer_id)
        response = RedirectResponse("/portal", status_code=303)
        set_session_cookie(response, request, request.app.state.settings, secret)
        return response

    return await _form_page(request, "portal/login.html", work)


@router.get("/portal/forgot")
async def forgot_page(request: Request) -> Response:
    _enabled(request)
    return render_plain(request, "portal/forgot.html", errors={}, form={}, sent=False)


@router.post("/portal/forgot")
async def forgot(request: Request) -> Response:
    """The same answer whether or not the address has an account."""
    async def work(tx: Tx, form: dict[str, str]) -> Response:
        await _guard(request, tx, "reset", form.get("email", ""))
        await accounts.request_reset(tx, request.app.state.settings, form.get("email", ""))
        return render_plain(request, "portal/forgot.html", errors={}, form={}, sent=True)

    return await _form_page(request, "portal/forgot.html", work)


@router.get("/portal/reset")
async def reset_page(request: Request, token: str = "") -> Response:
    """The emailed link only shows the form: the token is consumed by the POST, not by opening the link."""
    _enabled(request)
    return render_plain(request, "portal/reset.html", errors={}, form={"token": token})


@router.post("/portal/reset")
async def reset(request: Request) -> Response:
    async def work(tx: Tx, form: dict[str, str]) -> Response:
        customer_id = await accounts.reset_password(tx, form.get("token", ""), form.get("password", ""))
        _, secret = await _new_session(request, tx, customer_id)
        response = RedirectResponse("/portal", status_code=303)
        set_session_cookie(response, request, request.app.state.settings, secret)
        return response

    return await _form_page(request, "portal/reset.html", work)


@api_router.post("/signup", status_code=status.HTTP_201_CREATED, response_model=PortalToken)
async def api_signup(body: PortalSignup, request: Request) -> PortalToken:
    """Create an account; answers a session token (and the first API key, once, when configured)."""
    tx: Tx = request.state.tx
    await _guard(request, tx, "signup")
    made = await accounts.sign_up(tx, request.app.state.settings, body.email, body.password)
    return await _token(request, tx, made.customer.id, made.first_key)


@api_router.post("/login", response_model=PortalToken)
async def api_login(body: PortalLogin, request: Request) -> PortalToken:
    tx: Tx = request.state.tx
    await _guard(request, tx, "login", body.email)
    return await _token(request, tx, await accounts.log_in(tx, body.email, body.password), None)


async def _token(request: Request, tx: Tx, customer_id: str, first_key: str | None) -> PortalToken:
    session, secret = await _new_session(request, tx, customer_id)
    return PortalToken(token=secret, expires_at=session.expires_at, customer=customer_id, api_key=first_key)
