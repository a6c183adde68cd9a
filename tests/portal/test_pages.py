"""Portal pages over HTTP (no browser): links open sessions once, pages need a session, forms need CSRF."""

from __future__ import annotations

import re

import httpx

from tests.factories import grant, make_customer, ok
from tests.portal.support import customer_jwt


def browser(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test")


async def _link(client: httpx.AsyncClient, customer: str, **fields) -> str:
    url = ok(await client.post(f"/v1/customers/{customer}/portal_sessions", json=fields), 201)["url"]
    return url.removeprefix("http://creditflow.test")


async def test_a_link_opens_a_session_once_and_redirects_to_a_clean_url(app, client) -> None:
    customer = await make_customer(client, currency="USD", name="Ada")
    await grant(client, customer["id"], "1234.5")
    link = await _link(client, customer["id"], flow="usage")
    async with browser(app) as web:
        opened = await web.get(link)
        assert opened.status_code == 303 and opened.headers["location"] == "/portal/usage"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=lax" in cookie
        page = await web.get("/portal")
        assert page.status_code == 200 and "$1,234.50" in page.text
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        assert page.headers["referrer-policy"] == "no-referrer"
    async with browser(app) as other:
        again = await other.get(link)
        assert again.status_code == 410 and "already used or has expired" in again.text


async def test_pages_without_a_session_say_so(app) -> None:
    async with browser(app) as web:
        page = await web.get("/portal")
    assert page.status_code == 303 and page.headers["location"] == "/portal/login"


async def test_a_jwt_opens_a_session_once(app, client, clock) -> None:
    customer = await make_customer(client, currency="USD")
    token = customer_jwt(customer["external_id"], clock.now())
    async with browser(app) as web:
        assert (await web.get(f"/portal?token={token}")).status_code == 303
        assert (await web.get("/portal")).status_code == 200
    async with browser(app) as web:
        assert (await web.get(f"/portal?token={token}")).status_code == 410


async def test_forms_need_the_session_csrf_token_and_origin(app, client) -> None:
    customer = await make_customer(client, currency="USD")
    link = await _link(client, customer["id"])
    async with browser(app) as web:
        await web.get(link)
        page = await web.get("/portal/api-keys")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        origin = {"Origin": "http://creditflow.test"}
        forged = await web.post("/portal/api-keys", data={"name": "x", "csrf_token": "wrong"}, headers=origin)
        assert forged.status_code == 403
        elsewhere = {"Origin": "https://evil.example"}
        cross_site = await web.post("/portal/api-keys", data={"name": "x", "csrf_token": csrf}, headers=elsewhere)
        assert cross_site.status_code == 403
        created = await web.post("/portal/api-keys", data={"name": "prod", "csrf_token": csrf}, headers=origin)
        assert created.status_code == 201 and "cf_ck_" in created.text


async def test_an_expired_link_shows_a_clear_page(app, client, clock) -> None:
    customer = await make_customer(client, currency="USD")
    link = await _link(client, customer["id"], expires_in=60)
    clock.advance(seconds=61)
    async with browser(app) as web:
        page = await web.get(link)
    assert page.status_code == 410 and "already used or has expired" in page.text
    assert "set-cookie" not in page.headers
