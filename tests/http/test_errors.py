"""The error body every failure uses, the status map, and: never a 500 for bad input, and nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from creditflow import errors
from creditflow.http.errors import status_for
from creditflow.payments.gateways import errors as gateway_errors
from tests.factories import grant, hold, make_customer
from tests.http.support import ledger_state

JUNK: list[Any] = [[], [{"a": [1, {"b": None}]}], {"$gt": ""}]


@pytest.fixture
async def lenient(app, operator_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sees a 500 as a response instead of the app's exception."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://creditflow.test", headers={"Authorization": f"Bearer {operator_key}"}
    ) as http:
        yield http


async def _funded(client: httpx.AsyncClient) -> str:
    customer = (await make_customer(client, external_id="fuzz"))["id"]
    await grant(client, customer, "100.00")
    return customer


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


@pytest.mark.parametrize("body", [b"{", b'{"customer": }', b"not json", b'{"a": 1,}', b"{'a': 1}", b'"unterminated'])
@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/customers", "/v1/credit_grants"])
async def test_malformed_json_is_400_invalid_json(client, path, body):
    await _funded(client)
    state = await ledger_state(client)
    response = await client.post(path, content=body, headers={"Content-Type": "application/json"})
    _assert_error(response, 400, "invalid_json")
    assert await ledger_state(client) == state


@pytest.mark.parametrize("body", [b'{"customer": "fuzz", "amount": "\xff"}', b"\xff\xfe{}", b"[" * 5000 + b"]" * 5000])
@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/credit_grants"])
@pytest.mark.parametrize("idempotency_key", [None, "undecodable"])
async def test_undecodable_body_is_400_invalid_json(lenient, path, body, idempotency_key):
    await _funded(lenient)
    state = await ledger_state(lenient)
    headers = {"Content-Type": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    response = await lenient.post(path, content=body, headers=headers)
    _assert_error(response, 400, "invalid_json")
    assert await ledger_state(lenient) == state


@pytest.mark.parametrize(
    "path", ["/v1/customers/cus_nope", "/v1/debits/op_nope", "/v1/holds/hld_nope", "/v1/credit_grants/grt_nope",
             "/v1/customers/cus_nope/wallets", "/v1/transactions?customer=nobody"],
)
async def test_unknown_resource_is_404_not_found(client, path):
    _assert_error(await client.get(path), 404, "not_found")


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/holds/hld_nope/capture", {}), ("/v1/holds/hld_nope/void", None), ("/v1/credit_grants/grt_nope/void", None),
     ("/v1/debits/op_nope/refund", {}), ("/v1/debits", {"customer": "nobody", "amount": "1"}),
     ("/v1/holds", {"customer": "nobody", "amount": "1"}),
     ("/v1/credit_grants", {"customer": "nobody", "amount": "1", "category": "paid"}),
     ("/v1/customers/nobody/wallets", {"currency": "CREDITS"})],
)
async def test_post_on_an_unknown_resource_is_404_and_writes_nothing(client, path, body):
    await _funded(client)
    state = await ledger_state(client)
    _assert_error(await client.post(path, json=body), 404, "not_found")
    assert await ledger_state(client) == state


async def test_unknown_customer_in_a_body_names_the_param(client):
    error = _assert_error(await client.post("/v1/debits", json={"customer": "nobody", "amount": "1"}), 404, "not_found")
    assert error["param"] == "customer"


@pytest.mark.parametrize("path", ["/v1/nope", "/nope", "/v1/customers/x/y/z", "/v2/customers"])
async def test_unknown_route_is_404_json(client, path):
    error = _assert_error(await client.get(path), 404, "not_found")
    assert "param" not in error


async def test_unknown_route_without_a_key_is_404_json(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as http:
        _assert_error(await http.get("/v1/nope"), 404, "not_found")


async def test_wrong_method_is_405_json(client):
    _assert_error(await client.delete("/v1/customers"), 405, "method_not_allowed")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/v1/customers", {"GET", "POST"}), ("/v1/webhook_endpoints/we_x", {"GET", "PATCH", "DELETE"}),
     ("/v1/debits", {"POST"})],
)
async def test_405_lists_every_allowed_method_in_allow(client, path, allowed):
    response = await client.put(path, json={})
    _assert_error(response, 405, "method_not_allowed")
    assert set(response.headers["Allow"].split(", ")) == allowed


async def test_unknown_field_is_422_naming_it(client):
    customer = await _funded(client)
    state = await ledger_state(client)
    error = _assert_error(
        await client.post("/v1/debits", json={"customer": customer, "amount": "1", "amout": "2"}), 422,
        "validation_error",
    )
    assert error["param"] == "amout"
    assert error["details"] == [{"param": "amout", "message": "unknown field"}]
    assert await ledger_state(client) == state


@pytest.mark.parametrize("amount", ["0", "0.00", "-1", "-0.000001", "0.0000001", "12.1234567", "abc", "", "1,5",
                                    "1.2.3", "0x10", "1e3", " ", "\u0661"])  # Arabic-Indic digit one
@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/credit_grants"])
async def test_invalid_amount_is_422_naming_amount_and_changes_nothing(client, path, amount):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await client.post(path, json={"customer": customer, "amount": amount, "category": "paid"} if
                                 path == "/v1/credit_grants" else {"customer": customer, "amount": amount})
    error = _assert_error(response, 422, "validation_error")
    assert error["param"] == "amount"
    assert await ledger_state(client) == state


@pytest.mark.parametrize("amount", ["0", "-5", "1.0000001"])
async def test_invalid_capture_amount_is_422_and_captures_nothing(client, amount):
    customer = await _funded(client)
    hold_id = (await hold(client, customer, "10.00")).json()["id"]
    state = await ledger_state(client)
    error = _assert_error(await client.post(f"/v1/holds/{hold_id}/capture", json={"amount": amount}), 422,
                          "validation_error")
    assert error["param"] == "amount"
    assert await ledger_state(client) == state


async def test_validation_error_lists_every_problem(client):
    error = _assert_error(await client.post("/v1/debits", json={"amount": "-1", "extra": 1}), 422, "validation_error")
    assert {d["param"] for d in error["details"]} == {"customer", "amount", "extra"}


async def test_insufficient_funds_is_402_with_the_available_balance(client):
    customer = await _funded(client)
    state = await ledger_state(client)
    error = _assert_error(await client.post("/v1/debits", json={"customer": customer, "amount": "100.01"}), 402,
                          "insufficient_funds")
    assert error["details"]["available"] == "100.00"
    assert await ledger_state(client) == state


async def test_unsupported_content_type_is_a_client_error(client):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await client.post(
        "/v1/debits", content=f'{{"customer": "{customer}", "amount": "1"}}', headers={"Content-Type": "text/plain"}
    )
    assert 400 <= response.status_code < 500, response.text
    assert "error" in response.json()
    assert await ledger_state(client) == state


WHOLE_BODIES = [b"[]", b'"a string"', b"42", b"true", b"[1, 2, 3]", b'[{"customer": "fuzz", "amount": "1"}]',
                b'{"customer": ["fuzz"], "amount": {"v": "1"}}', b"{}", b"null"]


@pytest.mark.parametrize("body", WHOLE_BODIES)
@pytest.mark.parametrize(
    "path", ["/v1/debits", "/v1/holds", "/v1/customers", "/v1/credit_grants", "/v1/customers/fuzz/wallets"]
)
async def test_junk_body_is_a_4xx_and_changes_nothing(lenient, path, body):
    await _funded(lenient)
    state = await ledger_state(lenient)
    response = await lenient.post(path, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()
    assert await ledger_state(lenient) == state


FIELDS = {
    "/v1/debits": {"customer": "fuzz", "amount": "1.00", "currency": "USD", "description": "d", "metadata": {"k": "v"}},
    "/v1/holds": {"customer": "fuzz", "amount": "1.00", "currency": "USD", "expires_in": 60, "description": "d",
                  "metadata": {"k": "v"}},
    "/v1/customers": {"external_id": "new", "name": "n", "email": "a@b.co", "currency": "USD", "timezone": "UTC",
                      "credit_limit": "0", "metadata": {"k": "v"}},
    "/v1/credit_grants": {"customer": "fuzz", "amount": "1.00", "currency": "USD", "category": "paid", "priority": 5,
                          "expires_at": "2030-01-01T00:00:00Z", "cost": {"amount": "1", "currency": "USD"},
                          "description": "d", "metadata": {"k": "v"}},
    "/v1/customers/fuzz/wallets": {"currency": "CREDITS", "credit_limit": "1"},
}
WRONG_TYPES = [
    (path, field, value)
    for path, body in FIELDS.items()
    for field in body
    for value in JUNK
    if not (field == "metadata" and isinstance(value, dict))  # {} and {"$gt": ""} are valid string maps
]


@pytest.mark.parametrize(("path", "field", "value"), WRONG_TYPES)
async def test_wrong_type_for_any_field_is_422_naming_it_and_changes_nothing(lenient, path, field, value):
    await _funded(lenient)
    state = await ledger_state(lenient)
    response = await lenient.post(path, json={**FIELDS[path], field: value})
    error = _assert_error(response, 422, "validation_error")
    assert error["param"].split(".")[0] == field
    assert await ledger_state(lenient) == state


@pytest.mark.parametrize(
    ("path", "field", "value"),
    [("/v1/debits", "customer", None), ("/v1/debits", "amount", None), ("/v1/holds", "expires_in", 0),
     ("/v1/holds", "expires_in", 7 * 24 * 3600 + 1), ("/v1/holds", "expires_in", 10**30),
     ("/v1/debits", "currency", "!!"), ("/v1/debits", "currency", "X" * 100), ("/v1/debits", "description", "x" * 1001),
     ("/v1/debits", "metadata", {"k" * 41: "v"}), ("/v1/debits", "metadata", {"k": "v" * 501}),
     ("/v1/debits", "metadata", {str(i): "v" for i in range(51)}), ("/v1/customers", "external_id", ""),
     ("/v1/customers", "external_id", "x" * 256), ("/v1/customers", "email", "nope"),
     ("/v1/customers", "timezone", "Mars/Olympus"), ("/v1/customers", "timezone", "../../etc/passwd"),
     ("/v1/customers", "credit_limit", "-1"), ("/v1/customers", "currency", ""),
     ("/v1/credit_grants", "category", "free"), ("/v1/credit_grants", "priority", -1),
     ("/v1/credit_grants", "priority", 1001), ("/v1/credit_grants", "expires_at", "2030-01-01T00:00:00"),
     ("/v1/credit_grants", "expires_at", "yesterday"),
     ("/v1/credit_grants", "cost", {"amount": "-1", "currency": "USD"}),
     ("/v1/credit_grants", "priority", 1.5), ("/v1/customers/fuzz/wallets", "credit_limit", "-0.01")],
)
async def test_out_of_range_field_is_422_naming_it_and_changes_nothing(lenient, path, field, value):
    await _funded(lenient)
    state = await ledger_state(lenient)
    error = _assert_error(await lenient.post(path, json={**FIELDS[path], field: value}), 422, "validation_error")
    assert error["param"].split(".")[0] == field
    assert await ledger_state(lenient) == state


@pytest.mark.parametrize(("path", "value"), [("/v1/holds", 1.5e300), ("/v1/debits", "1000000000000.000001")])
async def test_an_amount_past_the_largest_is_422_amount_too_large_and_changes_nothing(lenient, path, value):
    await _funded(lenient)
    state = await ledger_state(lenient)
    error = _assert_error(await lenient.post(path, json={**FIELDS[path], "amount": value}), 422, "amount_too_large")
    assert error["param"] == "amount"
    assert await ledger_state(lenient) == state


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (gateway_errors.GatewayUnavailable("stripe", "timed out"), 503),
        (gateway_errors.GatewayRefused("stripe", "card declined"), 502),
        (gateway_errors.InvalidSignature("razorpay", "forged"), 400),
        (gateway_errors.OperationNotSupported("razorpay", "no expire"), 422),
        (gateway_errors.UnsupportedAmount("midtrans", "fractional rupiah"), 422),
        (errors.BudgetExceeded("over"), 402),
        (errors.InsufficientFunds("short"), 402),
    ],
)
def test_status_map_covers_payment_gateway_and_spend_refusals(error, status):
    assert status_for(error) == status
