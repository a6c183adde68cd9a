"""What every portal page does first: find the session cookie's customer in a short transaction, and render
with the customer's locale, time zone, CSRF token and branding. A page without a session says so plainly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import HTMLResponse

from creditflow.config import Settings
from creditflow.customers.service import Customer, get_customer
from creditflow.db.tx import Tx
from creditflow.web.csrf import FORM_FIELD, check_csrf
from creditflow.web.formatting import locale_for
from creditflow.web.sessions import COOKIE_NAME, WebSession, find_session
from creditflow.web.templates import Pages

TEMPLATES = Path(__file__).parent / "templates"
NAV = (
    ("overview", "/portal", "Overview"), ("buy", "/portal/buy", "Buy credits"), ("usage", "/portal/usage", "Usage"),
    ("transactions", "/portal/transactions", "Transactions"), ("invoices", "/portal/invoices", "Invoices"),
    ("api_keys", "/portal/api-keys", "API keys"), ("plan", "/portal/plan", "Plan"),
)


class SignedOut(Exception):
    """No live session: the page shows how to get back in, never a stack trace."""


@dataclass(slots=True)
class PageContext:
    request: Request
    tx: Tx
    session: WebSession
    customer: Customer
    settings: Settings

    @property
    def locale(self) -> str:
        return locale_for(self.customer.currency, self.settings.portal_locale)


def pages_of(request: Request) -> Pages:
    return request.app.state.portal_pages


@asynccontextmanager
async def customer_page(request: Request) -> AsyncIterator[PageContext]:
    """One transaction for the page's reads (and a form's write), committed when the block ends."""
    state = request.app.state
    async with state.engine.begin() as conn:
        tx = Tx(conn=conn, now=state.clock.now(), actor="anonymous")
        session = await find_session(tx, request.cookies.get(COOKIE_NAME))
        if session is None:
            raise SignedOut
        tx.actor = f"customer:{session.customer_id}"
        customer = await get_customer(tx, session.customer_id)
        yield PageContext(request, tx, session, customer, state.settings)


def render(ctx: PageContext, name: str, active: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    return pages_of(ctx.request).render(
        ctx.request, name, status_code=status_code, customer=ctx.customer, csrf_token=ctx.session.csrf_token,
        nav=NAV, active=active, locale=ctx.locale, tz=ctx.customer.timezone, **context,
    )


def render_plain(request: Request, name: str, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page outside a session (sign in, sign up, an unusable link)."""
    settings: Settings = request.app.state.settings
    return pages_of(request).render(
        request, name, status_code=status_code, signup_enabled=settings.portal_signup, **context
    )


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form's fields (the first value of each), parsed by hand: no multipart dependency."""
    fields = parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True)
    return {name: values[0].strip() for name, values in fields.items()}


async def checked_form(ctx: PageContext) -> dict[str, str]:
    """The form, after its CSRF token and Origin have been checked against the session."""
    form = await read_form(ctx.request)
    check_csrf(ctx.request, ctx.settings, ctx.session.csrf_token, form.get(FORM_FIELD))
    return form
