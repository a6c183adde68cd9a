"""API keys (create, shown once with a copy button, revoke) and the subscription (see it, cancel it)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse

from creditflow.apikeys import service as api_keys
from creditflow.errors import DomainError
from creditflow.portal import views
from creditflow.portal.page_context import PageContext, checked_form, customer_page, render
from creditflow.subscriptions import service as subscriptions

router = APIRouter(include_in_schema=False)
FLASHES = {
    "revoked": ("ok", "The key was revoked: requests made with it are refused from now on."),
    "canceled": ("ok", "Your plan will end at the close of the current period."),
}


def _flash(done: str | None) -> dict[str, str] | None:
    if done not in FLASHES:
        return None
    kind, text = FLASHES[done]
    return {"kind": kind, "text": text}


async def _keys_page(ctx: PageContext, *, status_code: int = 200, **context: object) -> Response:
    keys = await api_keys.list_api_keys(ctx.tx, ctx.customer.id, limit=100, starting_after=None)
    return render(
        ctx, "portal/api_keys.html", "api_keys", status_code=status_code, keys=keys, now=ctx.tx.now, **context
    )


@router.get("/portal/api-keys")
async def keys_page(request: Request, done: str | None = None) -> Response:
    async with customer_page(request) as ctx:
        return await _keys_page(ctx, flash=_flash(done), created=None, errors={}, form={})


@router.post("/portal/api-keys")
async def create_key(request: Request) -> Response:
    """The new secret is rendered in this answer only (never in a URL, never stored)."""
    async with customer_page(request) as ctx:
        form = await checked_form(ctx)
        name = form.get("name", "")
        if not name or len(name) > 200:
            errors = {"name": "Give the key a name of at most 200 characters, such as “production”"}
            return await _keys_page(ctx, status_code=422, created=None, errors=errors, form=form)
        try:
            key, secret = await api_keys.create_api_key(ctx.tx, ctx.customer.id, name=name)
        except DomainError as error:
            return await _keys_page(ctx, status_code=422, created=None, errors={"name": error.message}, form=form)
        return await _keys_page(ctx, status_code=201, created={"key": key, "secret": secret}, errors={}, form={})


@router.post("/portal/api-keys/{api_key_id}/revoke")
async def revoke_key(request: Request, api_key_id: str) -> Response:
    async with customer_page(request) as ctx:
        await checked_form(ctx)
        await api_keys.revoke_api_key(ctx.tx, ctx.customer.id, api_key_id)
    return RedirectResponse("/portal/api-keys?done=revoked", status_code=303)


@router.get("/portal/plan")
async def plan_page(request: Request, done: str | None = None) -> Response:
    async with customer_page(request) as ctx:
        subscription, plan = await views.current_plan(ctx.tx, ctx.customer.id)
        return render(ctx, "portal/plan.html", "plan", subscription=subscription, plan=plan, flash=_flash(done))


@router.post("/portal/plan/cancel")
async def cancel_plan(request: Request) -> Response:
    async with customer_page(request) as ctx:
        await checked_form(ctx)
        subscription, _ = await views.current_plan(ctx.tx, ctx.customer.id)
        if subscription is not None:
            await subscriptions.cancel_subscription(ctx.tx, subscription.id, at_period_end=True)
    return RedirectResponse("/portal/plan?done=canceled", status_code=303)
