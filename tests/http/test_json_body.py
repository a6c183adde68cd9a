"""JSON numbers are read from their decimal text, never through a binary float."""

from __future__ import annotations

import pytest

from tests.factories import grant, make_customer, wallet
from tests.http.support import ledger_state


async def _funded(client, amount: str = "100.00") -> str:
    customer = (await make_customer(client))["id"]
    await grant(client, customer, amount)
    return customer


async def _raw_post(client, path: str, text: str, **headers: str):
    return await client.post(path, content=text.encode(), headers={"Content-Type": "application/json", **headers})


async def test_amount_sent_as_json_number_0_1_is_read_exactly(client):
    customer = await _funded(client, "1.00")
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": 0.1}}')
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "0.10"
    assert response.json()["wallet"]["posted"] == "0.90"


async def test_json_numbers_that_binary_floats_get_wrong_add_up_exactly(client):
    customer = await _funded(client, "0.30")
    for _ in range(3):
        response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": 0.1}}')
        assert response.status_code == 201, response.text
    balance = await wallet(client, customer)
    assert (balance["posted"], balance["available"]) == ("0.00", "0.00")


async def test_six_decimal_json_number_is_kept_to_the_micro_unit(client):
    customer = await _funded(client, "1.00")
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": 0.123456}}')
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "0.123456"
    assert response.json()["wallet"]["posted"] == "0.876544"


@pytest.mark.parametrize(("number", "expected"), [("1e2", "100.00"), ("2", "2.00"), ("1.50E+1", "15.00")])
async def test_json_integers_and_exponents_are_exact(client, number, expected):
    customer = (await make_customer(client))["id"]
    text = f'{{"customer": "{customer}", "amount": {number}, "category": "paid"}}'
    response = await _raw_post(client, "/v1/credit_grants", text)
    assert response.status_code == 201, response.text
    assert response.json()["amount"] == expected


@pytest.mark.parametrize("number", ["1e-7", "0.0000001", "0.1234567", "1.0000000001"])
async def test_json_number_with_more_than_six_decimals_is_422(client, number):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": {number}}}')
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["param"] == "amount"
    assert await ledger_state(client) == state


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_non_finite_json_constants_are_400_invalid_json(client, constant):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": {constant}}}')
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"
    assert await ledger_state(client) == state


@pytest.mark.parametrize("constant", ["NaN", "Infinity"])
async def test_non_finite_json_constants_with_an_idempotency_key_are_400(client, constant):
    customer = await _funded(client)
    response = await _raw_post(
        client, "/v1/holds", f'{{"customer": "{customer}", "amount": {constant}}}', **{"Idempotency-Key": "nan"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("number", ["1e30", "1E+30", "100000000000000000000000000000", "9223372036854.775808"])
@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/credit_grants"])
async def test_huge_json_numbers_are_422(client, number, path):
    customer = await _funded(client)
    state = await ledger_state(client)
    text = f'{{"customer": "{customer}", "amount": {number}, "category": "paid"}}'
    if path != "/v1/credit_grants":
        text = f'{{"customer": "{customer}", "amount": {number}}}'
    response = await _raw_post(client, path, text)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "amount"
    assert await ledger_state(client) == state


@pytest.mark.parametrize("number", ["1e999999999", "-1e999999999", "1e-999999999"])
@pytest.mark.parametrize("idempotency_key", [None, "exp"])
async def test_json_numbers_with_extreme_exponents_are_422(client, number, idempotency_key):
    customer = await _funded(client)
    state = await ledger_state(client)
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": {number}}}', **headers)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "amount"
    assert await ledger_state(client) == state


async def test_json_integer_too_long_to_parse_is_a_client_error(client):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": {"9" * 5000}}}')
    assert response.status_code in (400, 422), response.text
    assert await ledger_state(client) == state


@pytest.mark.parametrize("value", ["true", "false"])
async def test_amount_sent_as_a_boolean_is_422(client, value):
    customer = await _funded(client)
    state = await ledger_state(client)
    response = await _raw_post(client, "/v1/debits", f'{{"customer": "{customer}", "amount": {value}}}')
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "amount"
    assert await ledger_state(client) == state


async def test_credit_limit_sent_as_json_number_is_exact(client):
    customer = await make_customer(client)
    text = '{"currency": "CREDITS", "credit_limit": 0.1}'
    response = await _raw_post(client, f"/v1/customers/{customer['id']}/wallets", text)
    assert response.status_code == 201, response.text
    assert response.json()["credit_limit"] == "0.1"
    assert response.json()["available"] == "0.1"


@pytest.mark.parametrize("text", ["1.5", "0.5", "[]", '"x"', "true", "null"])
async def test_d4_a_body_that_is_not_an_object_is_422_never_the_defaults(client, text):
    customer = await _funded(client)
    held = (await client.post("/v1/holds", json={"customer": customer, "amount": "5.00"})).json()["id"]
    debited = (await client.post("/v1/debits", json={"customer": customer, "amount": "3.00"})).json()["id"]
    before = await ledger_state(client)
    for path in (f"/v1/holds/{held}/capture", f"/v1/debits/{debited}/refund", "/v1/customers"):
        response = await _raw_post(client, path, text)
        assert response.status_code == 422, (path, response.text)
        assert "must be a JSON object" in response.json()["error"]["message"]
    assert await ledger_state(client) == before
