"""Customer A against customer B's resources on every /v1/portal route: always 404 or nothing, never data.

The matrix is checked against the app's own routes: a new /v1/portal route without a row fails here.
"""

from __future__ import annotations

from tests.factories import make_api_key
from tests.portal.support import customer_client, customer_with_everything, usd_plan

# (method, path) -> the kind of B's resource put in its path, or None for routes that take no id
# (for those, none of B's ids may appear in A's answer).
MATRIX: dict[tuple[str, str], str | None] = {
    ("GET", "/v1/portal/customer"): None,
    ("GET", "/v1/portal/wallets"): None,
    ("GET", "/v1/portal/transactions"): None,
    ("GET", "/v1/portal/usage"): None,
    ("GET", "/v1/portal/invoices"): None,
    ("GET", "/v1/portal/invoices/{invoice_id}"): "invoice",
    ("GET", "/v1/portal/invoices/{invoice_id}/pdf"): "invoice",
    ("GET", "/v1/portal/packages"): None,
    ("GET", "/v1/portal/gateways"): None,
    ("GET", "/v1/portal/topups/{topup_id}"): "topup",
    ("POST", "/v1/portal/topups"): None,
    ("GET", "/v1/portal/api_keys"): None,
    ("POST", "/v1/portal/api_keys"): None,
    ("POST", "/v1/portal/api_keys/{api_key_id}/revoke"): "api_key",
    ("GET", "/v1/portal/subscriptions"): None,
    ("POST", "/v1/portal/subscriptions/{subscription_id}/cancel"): "subscription",
    ("POST", "/v1/portal/signup"): None,
    ("POST", "/v1/portal/login"): None,
}
BODIES = {
    "/v1/portal/topups": {"amount": "10.00", "currency": "USD", "gateway": "sandbox"},
    "/v1/portal/api_keys": {"name": "mine"},
    "/v1/portal/signup": {"email": "someone@example.com", "password": "a long enough password"},
    "/v1/portal/login": {"email": "someone@example.com", "password": "a long enough password"},
}


def test_every_portal_route_has_a_matrix_row(app) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items() if path.startswith("/v1/portal")
        for method in operations
    }
    assert routes == set(MATRIX), f"add rows for {sorted(routes - set(MATRIX))}; drop {sorted(set(MATRIX) - routes)}"


async def test_customer_a_never_sees_customer_b(app, client) -> None:
    plan = await usd_plan(client)
    a = await customer_with_everything(app, client, plan)
    b = await customer_with_everything(app, client, plan)
    secret = (await make_api_key(client, a.customer["id"], scopes=["manage"]))["key"]
    foreign = set(b.ids.values()) | {b.customer["id"]}
    async with customer_client(app, secret) as customer_a:
        for (method, template), kind in MATRIX.items():
            if kind is None:
                response = await customer_a.request(method, template, json=BODIES.get(template))
                assert response.status_code < 400, (template, response.text)
                assert not any(ref in response.text for ref in foreign), (template, response.text)
                continue
            path = template.replace("{" + template.split("{")[1].split("}")[0] + "}", b.ids[kind])
            response = await customer_a.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 404, (path, response.text)
            assert response.json()["error"]["code"] == "not_found"
    # B's things are untouched: its key is still active and its subscription not cancelled.
    keys = (await client.get(f"/v1/customers/{b.customer['id']}/api_keys")).json()["data"]
    assert {k["status"] for k in keys} == {"active"}
    sub = (await client.get(f"/v1/subscriptions/{b.ids['subscription']}")).json()
    assert sub["cancel_at_period_end"] is False
