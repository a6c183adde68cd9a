"""The OpenAPI document: every /v1 path, amounts as strings, the bearer scheme; /docs serves HTML."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

V1_PATHS = {
    "/v1/customers": {"get", "post"},
    "/v1/customers/{customer}": {"get", "patch"},
    "/v1/customers/{customer}/wallets": {"get", "post"},
    "/v1/customers/{customer}/wallets/{currency}": {"patch"},
    "/v1/credit_grants": {"get", "post"},
    "/v1/credit_grants/{grant_id}": {"get"},
    "/v1/credit_grants/{grant_id}/void": {"post"},
    "/v1/debits": {"post"},
    "/v1/debits/{debit_id}": {"get"},
    "/v1/debits/{debit_id}/refund": {"post"},
    "/v1/holds": {"get", "post"},
    "/v1/holds/{hold_id}": {"get"},
    "/v1/holds/{hold_id}/capture": {"post"},
    "/v1/holds/{hold_id}/void": {"post"},
    "/v1/transactions": {"get"},
    "/v1/customers/{customer}/api_keys": {"get", "post"},
    "/v1/customers/{customer}/api_keys/{api_key_id}/revoke": {"post"},
    "/v1/customers/{customer}/portal_sessions": {"post"},
    "/v1/portal/customer": {"get"},
    "/v1/portal/wallets": {"get"},
    "/v1/portal/transactions": {"get"},
    "/v1/portal/usage": {"get"},
    "/v1/portal/invoices": {"get"},
    "/v1/portal/invoices/{invoice_id}": {"get"},
    "/v1/portal/invoices/{invoice_id}/pdf": {"get"},
    "/v1/portal/packages": {"get"},
    "/v1/portal/gateways": {"get"},
    "/v1/portal/topups": {"post"},
    "/v1/portal/topups/{topup_id}": {"get"},
    "/v1/portal/api_keys": {"get", "post"},
    "/v1/portal/api_keys/{api_key_id}/revoke": {"post"},
    "/v1/portal/subscriptions": {"get"},
    "/v1/portal/subscriptions/{subscription_id}/cancel": {"post"},
    "/v1/portal/signup": {"post"},
    "/v1/portal/login": {"post"},
    "/v1/api_keys/verify": {"post"},
    "/v1/metrics": {"get", "post"},
    "/v1/metrics/{metric}": {"get"},
    "/v1/metrics/{metric}/archive": {"post"},
    "/v1/prices": {"get", "post"},
    "/v1/prices/{price_id}": {"get"},
    "/v1/prices/{price_id}/archive": {"post"},
    "/v1/events": {"get", "post"},
    "/v1/events/batch": {"post"},
    "/v1/events/estimate": {"post"},
    "/v1/events/{event_id}": {"get"},
    "/v1/events/{event_id}/refund": {"post"},
    "/v1/customers/{customer}/usage": {"get"},
    "/v1/customers/{customer}/statements/{month}": {"get"},
    "/v1/customers/{customer}/statements/{month}/pdf": {"get"},
    "/v1/authorize": {"post"},
    "/v1/budgets": {"get", "post"},
    "/v1/budgets/{budget_id}": {"get", "patch"},
    "/v1/budgets/{budget_id}/archive": {"post"},
    "/v1/budgets/{budget_id}/reset": {"post"},
    "/v1/coupons": {"get", "post"},
    "/v1/coupons/{coupon}": {"get"},
    "/v1/coupons/{coupon}/archive": {"post"},
    "/v1/coupons/{coupon}/redemptions": {"get"},
    "/v1/coupons/{coupon}/preview": {"post"},
    "/v1/alerts": {"get"},
    "/v1/invoices": {"get"},
    "/v1/invoices/{invoice_id}": {"get"},
    "/v1/invoices/{invoice_id}/pdf": {"get"},
    "/v1/invoices/{invoice_id}/void": {"post"},
    "/v1/packages": {"get", "post"},
    "/v1/packages/{package_id}": {"get"},
    "/v1/packages/{package_id}/archive": {"post"},
    "/v1/topups": {"get", "post"},
    "/v1/topups/{topup_id}": {"get"},
    "/v1/topups/{topup_id}/verify": {"post"},
    "/v1/topups/{topup_id}/refund": {"post"},
    "/v1/customers/{customer}/payment_methods": {"get"},
    "/v1/customers/{customer}/payment_methods/{payment_method_id}": {"delete"},
    "/v1/customers/{customer}/payment_methods/{payment_method_id}/default": {"post"},
    "/v1/customers/{customer}/payment_methods/{payment_method_id}/charge": {"post"},
    "/v1/plans": {"get", "post"},
    "/v1/plans/{plan}": {"get"},
    "/v1/plans/{plan}/archive": {"post"},
    "/v1/subscriptions": {"get", "post"},
    "/v1/subscriptions/{subscription_id}": {"get"},
    "/v1/subscriptions/{subscription_id}/usage": {"get"},
    "/v1/subscriptions/{subscription_id}/cancel": {"post"},
    "/v1/subscriptions/{subscription_id}/change": {"post"},
    "/v1/reports/daily": {"get"},
    "/v1/reports/summary": {"get"},
    "/v1/customers/{customer}/wallets/{currency}/low_balance": {"get", "put", "delete"},
    "/v1/customers/{customer}/wallets/{currency}/auto_topup": {"get", "put", "delete"},
    "/v1/customers/{customer}/wallets/{currency}/auto_topup/attempts": {"get"},
    "/v1/webhooks/{gateway}": {"post"},
    "/v1/webhook_endpoints": {"get", "post"},
    "/v1/webhook_endpoints/{endpoint_id}": {"get", "patch", "delete"},
    "/v1/webhook_endpoints/{endpoint_id}/rotate_secret": {"post"},
    "/v1/webhook_events": {"get"},
    "/v1/webhook_events/{event_id}": {"get"},
    "/v1/webhook_events/{event_id}/resend": {"post"},
    "/v1/webhook_event_types": {"get"},
    "/v1/audit_events": {"get"},
    "/v1/exports/customers.csv": {"get"},
    "/v1/exports/transactions.csv": {"get"},
    "/v1/exports/invoices.csv": {"get"},
    "/v1/exports/topups.csv": {"get"},
    "/v1/exports/events.csv": {"get"},
}
# Called by payment gateways, which sign the body instead of sending an operator key.
SIGNED_BY_GATEWAY = {"/v1/webhooks/{gateway}"}
# End users sign up and log in with an email and a password: these answer the credential.
BEFORE_ANY_CREDENTIAL = {"/v1/portal/signup", "/v1/portal/login"}


@pytest.fixture
async def spec(app) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as http:
        response = await http.get("/openapi.json")
    assert response.status_code == 200
    return response.json()


def _schema(spec: dict[str, Any], name: str) -> dict[str, Any]:
    return spec["components"]["schemas"][name]


async def test_openapi_lists_every_v1_path_and_method(spec):
    paths = {path: set(ops) for path, ops in spec["paths"].items() if path.startswith("/v1")}
    assert paths == V1_PATHS


async def test_openapi_lists_the_health_probes(spec):
    assert {"/", "/health/live", "/health/ready"} <= set(spec["paths"])


async def test_every_v1_operation_documents_its_error_answers_with_the_error_schema(spec):
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in spec["paths"].items():
        if not path.startswith("/v1"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            expected = {"400", "404", "409", "422"} | ({"401", "403"} if operation.get("security") else set())
            assert expected <= set(responses), f"{method.upper()} {path}"
            for status, response in responses.items():
                if status[0] in "45":
                    assert response["content"] == error, f"{method.upper()} {path} {status}"


async def test_every_v1_operation_declares_the_bearer_key(spec):
    schemes = spec["components"]["securitySchemes"]
    # The operator key, and on /v1/portal a customer credential (API key, JWT or portal session token).
    assert [s["scheme"].lower() for s in schemes.values()] == ["bearer", "bearer"]
    for path, operations in spec["paths"].items():
        if path.startswith("/v1") and path not in SIGNED_BY_GATEWAY | BEFORE_ANY_CREDENTIAL:
            for method, operation in operations.items():
                assert operation.get("security"), f"{method.upper()} {path} does not declare the operator key"
    for path in SIGNED_BY_GATEWAY:
        assert not spec["paths"][path]["post"].get("security"), f"{path} must not ask for an operator key"


@pytest.mark.parametrize(
    ("schema", "field"),
    [("DebitCreate", "amount"), ("HoldCreate", "amount"), ("GrantCreate", "amount"), ("CustomerCreate", "credit_limit"),
     ("WalletCreate", "credit_limit"), ("WalletUpdate", "credit_limit"), ("Cost", "amount")],
)
async def test_request_amounts_are_documented_as_decimal_strings(spec, schema, field):
    prop = _schema(spec, schema)["properties"][field]
    assert prop["type"] == "string"
    assert "number" not in str(prop)


@pytest.mark.parametrize(
    ("schema", "fields"),
    [("DebitOut", ["amount", "refunded"]), ("HoldOut", ["amount", "captured", "reserved"]),
     ("GrantOut", ["amount", "remaining", "held"]), ("Balance", ["posted", "held", "available"]),
     ("TransactionOut", ["amount"])],
)
async def test_response_amounts_are_strings(spec, schema, fields):
    properties = _schema(spec, schema)["properties"]
    for field in fields:
        assert properties[field]["type"] == "string", field


async def test_capture_and_refund_amounts_are_optional_strings(spec):
    for name in ("CaptureCreate", "RefundCreate"):
        variants = _schema(spec, name)["properties"]["amount"]["anyOf"]
        assert {v["type"] for v in variants} == {"string", "null"}


async def test_docs_serve_html_without_a_key(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as http:
        response = await http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "/openapi.json" in response.text
