"""/v1/portal: who gets in (customer keys, JWTs, session tokens), what a read-only key may do, allow-listing."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import expect_error, grant, make_api_key, make_customer, ok
from tests.portal.support import customer_client, customer_jwt, paid_topup


async def test_a_customer_key_reads_its_own_wallet_but_cannot_change_anything(app, client) -> None:
    customer = await make_customer(client, currency="USD")
    await grant(client, customer["id"], "12.50")
    secret = (await make_api_key(client, customer["id"]))["key"]
    async with customer_client(app, secret) as portal:
        wallets = ok(await portal.get("/v1/portal/wallets"))
        assert [(w["currency"], w["available"]) for w in wallets] == [("USD", "12.50")]
        assert ok(await portal.get("/v1/portal/customer"))["id"] == customer["id"]
        expect_error(await portal.post("/v1/portal/api_keys", json={"name": "x"}), 403, "forbidden")


async def test_a_manage_key_creates_keys_and_needs_json(app, client) -> None:
    customer = await make_customer(client, currency="USD")
    secret = (await make_api_key(client, customer["id"], scopes=["manage"]))["key"]
    async with customer_client(app, secret) as portal:
        created = ok(await portal.post("/v1/portal/api_keys", json={"name": "ci"}), 201)
        assert created["key"].startswith("cf_ck_") and created["customer"] == customer["id"]
        response = await portal.post("/v1/portal/api_keys", content=b"name=ci", headers={"Content-Type": "text/plain"})
        expect_error(response, 422, "invalid_request")


async def test_a_customer_jwt_is_accepted_only_when_short_lived(app, client, clock) -> None:
    customer = await make_customer(client, currency="USD")
    async with customer_client(app, customer_jwt(customer["external_id"], clock.now())) as portal:
        assert ok(await portal.get("/v1/portal/customer"))["external_id"] == customer["external_id"]
    long_lived = customer_jwt(customer["external_id"], clock.now(), lifetime=timedelta(hours=3))
    async with customer_client(app, long_lived) as portal:
        expect_error(await portal.get("/v1/portal/customer"), 401, "unauthenticated")
    expired = customer_jwt(customer["external_id"], clock.now(), lifetime=timedelta(minutes=-5))
    async with customer_client(app, expired) as portal:
        expect_error(await portal.get("/v1/portal/customer"), 401, "unauthenticated")
    # The subject is an external_id only: a token naming our internal id opens nothing.
    async with customer_client(app, customer_jwt(customer["id"], clock.now())) as portal:
        expect_error(await portal.get("/v1/portal/customer"), 401, "unauthenticated")


async def test_portal_answers_leave_out_operator_fields(app, client) -> None:
    customer = await make_customer(client, currency="USD")
    topup = await paid_topup(app, client, customer["id"])
    secret = (await make_api_key(client, customer["id"]))["key"]
    async with customer_client(app, secret) as portal:
        seen = ok(await portal.get(f"/v1/portal/topups/{topup['id']}"))
        transactions = ok(await portal.get("/v1/portal/transactions"))["data"]
        invoice = ok(await portal.get(f"/v1/portal/invoices/{topup['invoice']}"))
        pdf = await portal.get(f"/v1/portal/invoices/{topup['invoice']}/pdf")
    assert seen["status"] == "paid" and "needs_review" not in seen and "gateway_reference" not in seen
    assert transactions[0]["label"] == "Top-up" and "actor" not in transactions[0]
    assert "metadata" not in invoice and "seller" not in invoice
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


async def test_portal_session_links_check_their_return_url(client) -> None:
    customer = await make_customer(client, currency="USD")
    path = f"/v1/customers/{customer['id']}/portal_sessions"
    link = ok(await client.post(path, json={"return_url": "https://app.example.com/billing"}), 201)
    assert link["url"].startswith("http://creditflow.test/portal?token=")
    for bad in ("http://app.example.com/x", "https://evil.example.com/x", "javascript:alert(1)"):
        error = expect_error(await client.post(path, json={"return_url": bad}), 422, "invalid_request")
        assert error["param"] == "return_url"


async def test_portal_topups_offer_only_the_portal_gateways(app, client, settings) -> None:
    customer = await make_customer(client, currency="USD")
    secret = (await make_api_key(client, customer["id"], scopes=["manage"]))["key"]
    settings.portal_allow_sandbox = False
    async with customer_client(app, secret) as portal:
        assert ok(await portal.get("/v1/portal/gateways")) == []
        response = await portal.post("/v1/portal/topups", json={"amount": "5", "currency": "USD", "gateway": "sandbox"})
        assert expect_error(response, 422, "invalid_request")["param"] == "gateway"
