"""The sandbox gateway's checkout page: GET shows the order with Pay and Fail buttons; POST sends this
server a signed notification through an injectable `deliver`, then returns the customer.

Wiring (by the app): `app.include_router(sandbox_router(gateway, http_deliver(public_url + WEBHOOK_PATH)))`.
`deliver` raises when the notification was not accepted; the page then says so and the customer can
press again (the event id is stable per top-up and outcome, so a repeat is deduplicated).
"""

from __future__ import annotations

import html
import logging
import urllib.request
from collections.abc import Awaitable, Callable
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import anyio
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from creditflow import money
from creditflow.payments.gateways.errors import InvalidSignature
from creditflow.payments.gateways.sandbox import Outcome, SandboxGateway, SandboxNotification, SandboxOrder

log = logging.getLogger("creditflow.payments.sandbox")

Deliver = Callable[[SandboxNotification], Awaitable[None]]
_OUTCOMES: dict[str, Outcome] = {"paid": "paid", "failed": "failed"}


def http_deliver(url: str, timeout: float = 10.0) -> Deliver:
    """POST notifications to `url` (this server's /v1/webhooks/sandbox); raise unless it answers 2xx."""

    def post(notification: SandboxNotification) -> None:
        request = urllib.request.Request(url, data=notification.body, headers=notification.headers, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()

    async def deliver(notification: SandboxNotification) -> None:
        await anyio.to_thread.run_sync(post, notification)

    return deliver


def sandbox_router(gateway: SandboxGateway, deliver: Deliver) -> APIRouter:
    router = APIRouter(prefix="/sandbox", include_in_schema=False)

    @router.get("/checkout/{topup_id}")
    async def checkout_page(topup_id: str, token: str = "") -> HTMLResponse:
        order = _read(gateway, topup_id, token)
        if order is None:
            return _page("Unknown checkout", "<p>This checkout link is not valid.</p>", status=404)
        reason = gateway.why_not_payable(order)
        if reason:
            return _page("Checkout closed", f"<p>{html.escape(reason)}</p>", status=410)
        buttons = "".join(
            f'<button name="outcome" value="{value}">{label}</button> '
            for value, label in (("paid", "Pay"), ("failed", "Fail"))
        )
        body = (
            f"{_summary(order)}"
            f'<form method="post" action="/sandbox/checkout/{html.escape(order.topup_id)}">'
            f'<input type="hidden" name="token" value="{html.escape(token)}">{buttons}</form>'
            "<p><small>Sandbox gateway: no money moves. Pay credits the top-up; Fail reports a failed "
            "payment (you can still pay afterwards).</small></p>"
        )
        return _page("Sandbox checkout", body)

    @router.post("/checkout/{topup_id}")
    async def press(topup_id: str, request: Request) -> Response:
        # The form is parsed by hand: FastAPI's Form needs python-multipart, a dependency for two fields.
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0]
        outcome = _OUTCOMES.get((form.get("outcome") or [""])[0])
        order = _read(gateway, topup_id, token)
        if order is None or outcome is None:
            return _page("Unknown checkout", "<p>This checkout link is not valid.</p>", status=404)
        reason = gateway.why_not_payable(order)
        if reason:
            return _page("Checkout closed", f"<p>{html.escape(reason)}</p>", status=410)
        try:
            await deliver(gateway.build_notification(order, outcome))
        except Exception:
            log.exception("sandbox notification for %s was not delivered", topup_id)
            body = f"{_summary(order)}<p>The notification could not be delivered. Go back and press again.</p>"
            return _page("Not delivered", body, status=502)
        gateway.record_outcome(order, outcome)
        if order.return_url:
            return RedirectResponse(_with_query(order.return_url, topup_id=topup_id, status=outcome), status_code=303)
        message = "Payment succeeded." if outcome == "paid" else "Payment failed."
        return _page(message, f"{_summary(order)}<p>{message} You can close this page.</p>")

    return router


def _read(gateway: SandboxGateway, topup_id: str, token: str) -> SandboxOrder | None:
    try:
        return gateway.read_checkout_token(topup_id, token)
    except (InvalidSignature, ValueError, KeyError, TypeError):
        return None


def _summary(order: SandboxOrder) -> str:
    amount = f"{money.format(order.amount, order.currency)} {order.currency}"
    return f"<p>{html.escape(order.description)}</p><p><strong>{html.escape(amount)}</strong></p>"


def _page(title: str, body: str, *, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head>"
        '<body style="font-family: sans-serif; max-width: 32rem; margin: 3rem auto">'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _with_query(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return urlunsplit(parts._replace(query=query))
