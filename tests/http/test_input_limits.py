"""Issue 11 D3, D6, D7: the limits every JSON body, path id and query value meets, the same on both engines."""

from __future__ import annotations

import json

import pytest

from creditflow.http.input_limits import MAX_DEPTH, MAX_OBJECT_KEYS, MAX_STRING_LENGTH, QUOTE_PREFIX
from creditflow.metering.schemas import MAX_PROPERTIES, MAX_PROPERTIES_BYTES
from tests.factories import expect_error, make_customer
from tests.http.support import ledger_state
from tests.metering._helpers import events_of, funded, make_metric, make_price, send


async def _raw_post(client, path: str, text: str):
    return await client.post(path, content=text.encode(), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/debits", {"customer": "\u0000", "amount": "1.00"}, "customer"),
        ("/v1/customers", {"external_id": "a\u0000b"}, "external_id"),
        ("/v1/customers", {"external_id": "ok", "name": "\u0000"}, "name"),
        ("/v1/credit_grants", {"customer": "c", "amount": "1", "category": "paid", "metadata": {"k\u0000": "v"}},
         "metadata.k\u0000"),
    ],
)
async def test_d3_nul_in_a_body_string_is_422_and_writes_nothing(client, path, body, param):
    before = await ledger_state(client)
    error = expect_error(await client.post(path, json=body), 422, "validation_error")
    assert error["param"] == param
    assert "NUL" in error["message"]
    assert await ledger_state(client) == before


@pytest.mark.parametrize(
    "url",
    ["/v1/debits/op%00", "/v1/customers/cus%00x/wallets", "/v1/alerts?starting_after=%00",
     "/v1/customers?email=a%00b"],
)
async def test_d3_nul_in_a_path_id_or_query_value_is_422(client, url):
    error = expect_error(await client.get(url), 422, "validation_error")
    assert "NUL" in error["message"]


async def test_d6_properties_nested_deeper_than_the_limit_are_422_and_stored_nowhere(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    deep: object = "leaf"
    for _ in range(900):
        deep = {"a": deep}
    response = await _raw_post(client, "/v1/events", json.dumps(
        {"customer": customer, "metric": "calls", "transaction_id": "deep", "properties": deep}))
    error = expect_error(response, 422, "validation_error")
    assert f"{MAX_DEPTH} levels" in error["message"]
    assert await events_of(client, customer) == []


async def test_d6_properties_nested_within_the_limit_are_stored_and_returned(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.01"})
    nested: object = "leaf"
    for _ in range(MAX_DEPTH - 3):
        nested = {"a": nested}
    response = await send(client, customer, "calls", "ok", properties={"n": nested})
    assert response.status_code in (200, 201), response.text
    assert response.json()["properties"] == {"n": nested}


@pytest.mark.parametrize(
    ("properties", "message"),
    [
        ({f"k{i}": i for i in range(MAX_PROPERTIES + 1)}, f"at most {MAX_PROPERTIES} properties"),
        ({f"k{i}": "x" * 2000 for i in range(MAX_PROPERTIES_BYTES // 2000 + 1)}, f"{MAX_PROPERTIES_BYTES} bytes"),
        ({"big": "x" * (MAX_STRING_LENGTH + 1)}, f"at most {MAX_STRING_LENGTH} characters"),
    ],
    ids=["count", "bytes", "string"],
)
async def test_d7_event_properties_past_their_limits_are_422(client, properties, message):
    customer = await funded(client)
    await make_metric(client, "calls")
    error = expect_error(await send(client, customer, "calls", "big", properties=properties), 422, "validation_error")
    assert message in error["message"]
    assert await events_of(client, customer) == []


async def test_d7_an_object_with_more_keys_than_the_limit_is_422(client):
    body = {"external_id": "x", "metadata": {f"k{i}": "v" for i in range(MAX_OBJECT_KEYS + 1)}}
    error = expect_error(await client.post("/v1/customers", json=body), 422, "validation_error")
    assert error["param"] == "metadata"


async def test_d7_a_long_value_is_quoted_in_an_error_by_a_short_prefix_only(client):
    await make_customer(client)
    sent = "z" * MAX_STRING_LENGTH
    error = expect_error(await client.post("/v1/debits", json={"customer": sent, "amount": "1"}), 404, "not_found")
    assert len(error["message"]) < QUOTE_PREFIX + 40
    assert "z" * QUOTE_PREFIX + "…" in error["message"]
