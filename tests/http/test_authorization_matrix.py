"""Every route of the app against every kind of caller, generated from the app's route table (issue 18 §2).

Each route has a row saying who may call it; a route added without a row fails
test_every_route_has_a_row. Cells run in-process over ASGI with placeholder ids and an empty JSON body, so an
allowed call answers 404 or 422 rather than 200: what matters is that it gets past authentication and scope,
and that no cell is a 500. Portal pages are reached with a session cookie, never a bearer credential,  so
every caller here is refused; the portal's own tests cover signed-in pages, and customer A
against customer B's resources (tests/portal/test_isolation.py). Console roles join as the console lands.
"""

from __future__ import annotations

import re
from typing import Literal

import httpx
import pytest

from creditflow.db.tx import Tx
from creditflow.http.route_table import route_table
from creditflow.keys.service import create_key, revoke_key
from tests.factories import make_api_key, make_customer

Access = Literal["public", "usage", "operator", "lago", "customer_read", "customer_manage", "page"]

# Anyone may call these: documentation, health, the sandbox's checkout page, and gateways' signed webhooks.
PUBLIC = {
    ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/health/live"), ("GET", "/health/ready"),
    ("GET", "/openapi.json"), ("GET", "/redoc"), ("GET", "/sandbox/checkout/{topup_id}"),
    ("POST", "/sandbox/checkout/{topup_id}"), ("POST", "/v1/webhooks/{gateway}"),
}
# An operator key of the 'usage' scope may call these (and a key of the 'all' scope everything).
USAGE = {
    ("POST", "/v1/api_keys/verify"), ("POST", "/v1/authorize"), ("POST", "/v1/events"),
    ("POST", "/v1/events/batch"), ("POST", "/v1/events/estimate"), ("POST", "/v1/holds/{hold_id}/capture"),
    ("POST", "/v1/holds/{hold_id}/void"),
}
OPERATOR = {
    ("GET", "/v1/alerts"), ("GET", "/v1/budgets"), ("POST", "/v1/budgets"), ("GET", "/v1/budgets/{budget_id}"),
    ("PATCH", "/v1/budgets/{budget_id}"), ("POST", "/v1/budgets/{budget_id}/archive"),
    ("GET", "/v1/credit_grants"), ("POST", "/v1/credit_grants"), ("GET", "/v1/credit_grants/{grant_id}"),
    ("POST", "/v1/credit_grants/{grant_id}/void"), ("GET", "/v1/customers"), ("POST", "/v1/customers"),
    ("GET", "/v1/customers/{customer}"), ("PATCH", "/v1/customers/{customer}"),
    ("GET", "/v1/customers/{customer}/api_keys"), ("POST", "/v1/customers/{customer}/api_keys"),
    ("POST", "/v1/customers/{customer}/api_keys/{api_key_id}/revoke"),
    ("GET", "/v1/customers/{customer}/payment_methods"),
    ("DELETE", "/v1/customers/{customer}/payment_methods/{payment_method_id}"),
    ("POST", "/v1/customers/{customer}/payment_methods/{payment_method_id}/charge"),
    ("POST", "/v1/customers/{customer}/payment_methods/{payment_method_id}/default"),
    ("GET", "/v1/customers/{customer}/usage"), ("GET", "/v1/customers/{customer}/wallets"),
    ("POST", "/v1/customers/{customer}/wallets"), ("PATCH", "/v1/customers/{customer}/wallets/{currency}"),
    ("DELETE", "/v1/customers/{customer}/wallets/{currency}/auto_topup"),
    ("GET", "/v1/customers/{customer}/wallets/{currency}/auto_topup"),
    ("PUT", "/v1/customers/{customer}/wallets/{currency}/auto_topup"),
    ("GET", "/v1/customers/{customer}/wallets/{currency}/auto_topup/attempts"),
    ("DELETE", "/v1/customers/{customer}/wallets/{currency}/low_balance"),
    ("GET", "/v1/customers/{customer}/wallets/{currency}/low_balance"),
    ("PUT", "/v1/customers/{customer}/wallets/{currency}/low_balance"),
    ("POST", "/v1/debits"), ("GET", "/v1/debits/{debit_id}"), ("POST", "/v1/debits/{debit_id}/refund"),
    ("GET", "/v1/events"), ("GET", "/v1/events/{event_id}"), ("POST", "/v1/events/{event_id}/refund"),
    ("GET", "/v1/holds"), ("POST", "/v1/holds"), ("GET", "/v1/holds/{hold_id}"),
    ("GET", "/v1/invoices"), ("GET", "/v1/invoices/{invoice_id}"), ("GET", "/v1/invoices/{invoice_id}/pdf"),
    ("POST", "/v1/invoices/{invoice_id}/void"), ("GET", "/v1/metrics"), ("POST", "/v1/metrics"),
    ("GET", "/v1/metrics/{metric}"), ("POST", "/v1/metrics/{metric}/archive"), ("GET", "/v1/packages"),
    ("POST", "/v1/packages"), ("GET", "/v1/packages/{package_id}"), ("POST", "/v1/packages/{package_id}/archive"),
    ("GET", "/v1/plans"), ("POST", "/v1/plans"), ("GET", "/v1/plans/{plan}"), ("POST", "/v1/plans/{plan}/archive"),
    ("GET", "/v1/prices"), ("POST", "/v1/prices"), ("GET", "/v1/prices/{price_id}"),
    ("POST", "/v1/prices/{price_id}/archive"), ("GET", "/v1/reports/daily"), ("GET", "/v1/subscriptions"),
    ("POST", "/v1/subscriptions"), ("GET", "/v1/subscriptions/{subscription_id}"),
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"), ("POST", "/v1/subscriptions/{subscription_id}/change"),
    ("GET", "/v1/topups"), ("POST", "/v1/topups"), ("GET", "/v1/topups/{topup_id}"),
    ("POST", "/v1/topups/{topup_id}/refund"), ("POST", "/v1/topups/{topup_id}/verify"), ("GET", "/v1/transactions"),
    ("GET", "/v1/webhook_endpoints"), ("POST", "/v1/webhook_endpoints"),
    ("DELETE", "/v1/webhook_endpoints/{endpoint_id}"), ("GET", "/v1/webhook_endpoints/{endpoint_id}"),
    ("PATCH", "/v1/webhook_endpoints/{endpoint_id}"), ("GET", "/v1/webhook_event_types"),
    ("GET", "/v1/webhook_events"), ("GET", "/v1/webhook_events/{event_id}"),
    ("POST", "/v1/webhook_events/{event_id}/resend"),
}

# Operator resources added since: audit log, exports, reports, coupons, statements, portal links, budget resets.
OPERATOR |= {
    ("GET", "/v1/audit_events"), ("POST", "/v1/budgets/{budget_id}/reset"), ("GET", "/v1/coupons"),
    ("POST", "/v1/coupons"), ("GET", "/v1/coupons/{coupon}"), ("POST", "/v1/coupons/{coupon}/archive"),
    ("POST", "/v1/coupons/{coupon}/preview"), ("GET", "/v1/coupons/{coupon}/redemptions"),
    ("POST", "/v1/customers/{customer}/portal_sessions"), ("GET", "/v1/customers/{customer}/statements/{month}"),
    ("GET", "/v1/customers/{customer}/statements/{month}/pdf"), ("GET", "/v1/exports/customers.csv"),
    ("GET", "/v1/exports/events.csv"), ("GET", "/v1/exports/invoices.csv"), ("GET", "/v1/exports/topups.csv"),
    ("GET", "/v1/exports/transactions.csv"), ("GET", "/v1/reports/summary"),
    ("GET", "/v1/subscriptions/{subscription_id}/usage"), ("POST", "/v1/webhook_endpoints/{endpoint_id}/rotate_secret"),
    ("GET", "/metrics"),
}
PUBLIC |= {
    ("GET", "/"), ("POST", "/v1/portal/login"), ("POST", "/v1/portal/signup"), ("GET", "/portal/brand.css"),
    ("GET", "/portal/forgot"), ("POST", "/portal/forgot"), ("GET", "/portal/login"), ("POST", "/portal/login"),
    ("GET", "/portal/reset"), ("POST", "/portal/reset"), ("GET", "/portal/signup"), ("POST", "/portal/signup"),
}
# The Lago-compatible API takes operator keys of the 'all' scope, answering refusals in Lago's error shape.
LAGO = {
    ("POST", "/api/v1/billable_metrics"), ("DELETE", "/api/v1/billable_metrics/{code}"),
    ("GET", "/api/v1/billable_metrics/{code}"), ("GET", "/api/v1/customers"), ("POST", "/api/v1/customers"),
    ("DELETE", "/api/v1/customers/{external_id}"), ("GET", "/api/v1/customers/{external_id}"),
    ("GET", "/api/v1/customers/{external_id}/current_usage"), ("POST", "/api/v1/events"),
    ("POST", "/api/v1/events/batch"), ("POST", "/api/v1/events/estimate_fees"),
    ("GET", "/api/v1/events/{transaction_id}"), ("GET", "/api/v1/invoices"), ("GET", "/api/v1/invoices/{lago_id}"),
    ("PUT", "/api/v1/invoices/{lago_id}"), ("POST", "/api/v1/invoices/{lago_id}/download"),
    ("POST", "/api/v1/plans"), ("DELETE", "/api/v1/plans/{code}"), ("GET", "/api/v1/plans/{code}"),
    ("GET", "/api/v1/subscriptions"), ("POST", "/api/v1/subscriptions"),
    ("DELETE", "/api/v1/subscriptions/{external_id}"), ("GET", "/api/v1/subscriptions/{external_id}"),
    ("POST", "/api/v1/wallet_transactions"), ("GET", "/api/v1/wallets"), ("POST", "/api/v1/wallets"),
    ("DELETE", "/api/v1/wallets/{lago_id}"), ("GET", "/api/v1/wallets/{lago_id}"),
    ("GET", "/api/v1/wallets/{lago_id}/wallet_transactions"),
}
# The customer API: a customer API key reads its own customer's data; changes need its 'manage' scope.
CUSTOMER_READ = {
    ("GET", "/v1/portal/api_keys"), ("GET", "/v1/portal/customer"), ("GET", "/v1/portal/gateways"),
    ("GET", "/v1/portal/invoices"), ("GET", "/v1/portal/invoices/{invoice_id}"),
    ("GET", "/v1/portal/invoices/{invoice_id}/pdf"), ("GET", "/v1/portal/packages"),
    ("GET", "/v1/portal/subscriptions"), ("GET", "/v1/portal/topups/{topup_id}"), ("GET", "/v1/portal/transactions"),
    ("GET", "/v1/portal/usage"), ("GET", "/v1/portal/wallets"),
}
CUSTOMER_MANAGE = {
    ("POST", "/v1/portal/api_keys"), ("POST", "/v1/portal/api_keys/{api_key_id}/revoke"),
    ("POST", "/v1/portal/subscriptions/{subscription_id}/cancel"), ("POST", "/v1/portal/topups"),
}
# Pages of a signed-in customer: only a portal session cookie opens them, never a bearer credential.
PAGES = {
    ("GET", "/portal"), ("GET", "/portal/api-keys"), ("POST", "/portal/api-keys"),
    ("POST", "/portal/api-keys/{api_key_id}/revoke"), ("GET", "/portal/buy"), ("POST", "/portal/buy"),
    ("GET", "/portal/buy/preview"), ("GET", "/portal/invoices"), ("GET", "/portal/invoices/{invoice_id}/pdf"),
    ("POST", "/portal/logout"), ("GET", "/portal/payment"), ("GET", "/portal/payment/status"),
    ("GET", "/portal/plan"), ("POST", "/portal/plan/cancel"), ("GET", "/portal/transactions"),
    ("GET", "/portal/usage"),
}
ROWS: dict[tuple[str, str], Access] = (
    dict.fromkeys(PUBLIC, "public") | dict.fromkeys(USAGE, "usage") | dict.fromkeys(OPERATOR, "operator")
    | dict.fromkeys(LAGO, "lago") | dict.fromkeys(CUSTOMER_READ, "customer_read")
    | dict.fromkeys(CUSTOMER_MANAGE, "customer_manage") | dict.fromkeys(PAGES, "page")
)

Principal = Literal["nobody", "garbage", "revoked", "customer_key", "usage_key", "operator_key"]
PRINCIPALS: tuple[Principal, ...] = ("nobody", "garbage", "revoked", "customer_key", "usage_key", "operator_key")
# Per row, the status each kind of caller is refused with; a caller not listed gets past authentication and scope.
# No valid credential is 401; a valid key of too narrow a scope is 403; a page answers a browser without a portal
# session 401 (a page that links to the login).
_NO_OPERATOR = {"nobody": 401, "garbage": 401, "revoked": 401, "customer_key": 401}
REFUSED: dict[Access, dict[Principal, int]] = {
    "public": {},
    "usage": _NO_OPERATOR,
    "operator": _NO_OPERATOR | {"usage_key": 403},
    "lago": _NO_OPERATOR | {"usage_key": 403},
    "customer_read": {"nobody": 401, "garbage": 401, "revoked": 401, "usage_key": 401, "operator_key": 401},
    "customer_manage": {"nobody": 401, "garbage": 401, "revoked": 401, "usage_key": 401, "operator_key": 401,
                        "customer_key": 403},
    "page": dict.fromkeys(PRINCIPALS, 401),
}


def expected_refusal(access: Access, principal: Principal) -> int | None:
    """The status a refused cell answers (None: allowed)."""
    return REFUSED[access].get(principal)


def test_every_route_has_a_row(app):
    served = set(route_table(app))
    assert sorted(served - ROWS.keys()) == [], "a route without a row in the authorization matrix"
    assert sorted(ROWS.keys() - served) == [], "a row for a route the app no longer serves"


async def _secrets(app, client: httpx.AsyncClient) -> dict[Principal, str | None]:
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=app.state.clock.now(), actor="test")
        _, usage = await create_key(tx, "usage", "usage")
        revoked_key, revoked = await create_key(tx, "revoked")
        await revoke_key(tx, revoked_key.id)
        _, operator = await create_key(tx, "operator")
    customer = (await make_customer(client))["id"]
    customer_key = (await make_api_key(client, customer, name="matrix"))["key"]
    return {"nobody": None, "garbage": "cf_sk_not-a-key", "revoked": revoked, "customer_key": customer_key,
            "usage_key": usage, "operator_key": operator}


@pytest.mark.parametrize("principal", PRINCIPALS)
async def test_each_route_answers_each_caller_as_its_row_says(app, client, principal):
    secret = (await _secrets(app, client))[principal]
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    wrong = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://creditflow.test", headers=headers,
                                 follow_redirects=False) as http:
        for (method, template), access in sorted(ROWS.items()):
            path = re.sub(r"\{[^}]+\}", "matrix-placeholder", template)
            body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = await http.request(method, path, **body)
            refusal = expected_refusal(access, principal)
            allowed_and_served = refusal is None and response.status_code not in (401, 403, 500)
            if response.status_code != refusal and not allowed_and_served:
                wrong.append(f"{method} {template}: {response.status_code}, expected {refusal or 'allowed'}")
    assert not wrong, "\n".join(wrong)
