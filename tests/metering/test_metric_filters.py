"""Metric filters: the property keys and values a metric declares bound its prices' filters and its events."""

from __future__ import annotations

import pytest

from tests.factories import expect_error, ok, wallet
from tests.metering._helpers import events_of, funded, make_metric, make_price, send

MODELS = {"model": ["gpt-4o", "claude"], "direction": ["input", "output"]}


async def _tokens(client) -> None:
    await make_metric(client, "tokens", "sum", field="tokens", filters=MODELS)


def _price_body(**fields) -> dict:
    return {"metric": "tokens", "currency": "USD", "model": "standard", "properties": {"amount": "1.00"}, **fields}


async def test_metric_returns_its_declared_filters(client):
    await _tokens(client)
    assert ok(await client.get("/v1/metrics/tokens"))["filters"] == MODELS


@pytest.mark.parametrize("filters", [{"model": []}, {"bad key": ["x"]}, {'q"uote': ["x"]}])
async def test_metric_filters_need_plain_keys_and_at_least_one_value(client, filters):
    body = {"code": "calls", "name": "Calls", "aggregation": "count", "filters": filters}
    error = expect_error(await client.post("/v1/metrics", json=body), 422, "invalid_request")
    assert error["param"] == "filters"


async def test_price_may_filter_on_declared_keys_and_values(client):
    await _tokens(client)
    price = ok(await client.post("/v1/prices", json=_price_body(filters={"model": ["gpt-4o", "claude"]})), 201)
    assert price["filters"] == {"model": ["gpt-4o", "claude"]}


@pytest.mark.parametrize(
    ("filters", "named"),
    [({"region": ["eu"]}, "region"), ({"model": ["gpt-4o", "gpt-5"]}, "gpt-5"), ({"direction": ["Input"]}, "Input")],
)
async def test_price_filter_outside_the_metrics_declaration_is_422_naming_filters(client, filters, named):
    await _tokens(client)
    error = expect_error(await client.post("/v1/prices", json=_price_body(filters=filters)), 422, "invalid_request")
    assert error["param"] == "filters"
    assert named in error["message"]
    assert ok(await client.get("/v1/prices"))["data"] == []


async def test_metric_without_filters_accepts_any_price_filters(client):
    await make_metric(client, "calls")
    price = await make_price(client, "calls", filters={"anything": ["goes"]})
    assert price["filters"] == {"anything": ["goes"]}


async def test_event_with_an_undeclared_value_is_422_invalid_property_and_not_recorded(client):
    customer = await funded(client, "10.00")
    await _tokens(client)
    await make_price(client, "tokens")
    response = await send(client, customer, "tokens", "t1", properties={"tokens": "5", "model": "gpt-5"})
    error = expect_error(response, 422, "invalid_property")
    assert error["param"] == "properties.model"
    assert error["details"] == {"allowed": ["gpt-4o", "claude"]}
    assert await events_of(client, customer) == []
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_event_without_a_declared_property_matches_only_prices_without_that_filter(client):
    customer = await funded(client)
    await _tokens(client)
    await make_price(client, "tokens", properties={"amount": "1.00"})
    await make_price(client, "tokens", properties={"amount": "3.00"}, filters={"model": ["gpt-4o"]})
    assert ok(await send(client, customer, "tokens", "t1", properties={"tokens": "1"}), 201)["cost"] == "1.00"
    with_model = {"tokens": "1", "model": "gpt-4o"}
    assert ok(await send(client, customer, "tokens", "t2", properties=with_model), 201)["cost"] == "3.00"


async def test_event_without_the_property_has_no_price_when_every_price_filters_on_it(client):
    customer = await funded(client)
    await _tokens(client)
    await make_price(client, "tokens", filters={"model": ["gpt-4o"]})
    expect_error(await send(client, customer, "tokens", "t1", properties={"tokens": "1"}), 422, "no_price")


async def test_numbers_and_booleans_compare_as_json_writes_them(client):
    customer = await funded(client)
    await make_metric(client, "calls", filters={"tier": ["1", "2"], "paid": ["true"]})
    await make_price(client, "calls", properties={"amount": "1.00"})
    await make_price(client, "calls", properties={"amount": "0.25"}, filters={"tier": ["1"], "paid": ["true"]})
    cheap = ok(await send(client, customer, "calls", "c1", properties={"tier": 1, "paid": True}), 201)
    assert cheap["cost"] == "0.25"
    assert ok(await send(client, customer, "calls", "c2", properties={"tier": 2}), 201)["cost"] == "1.00"
    for n, value in enumerate([3, False, None, ["1"]]):
        error = expect_error(await send(client, customer, "calls", f"x{n}", properties={"tier": value}), 422,
                             "invalid_property")
        assert error["param"] == "properties.tier"


async def test_in_a_batch_only_the_event_with_an_undeclared_value_is_rejected(client):
    customer = await funded(client, "10.00")
    await _tokens(client)
    await make_price(client, "tokens")
    events = [
        {"customer": customer, "metric": "tokens", "transaction_id": "t1", "properties": {"tokens": "1"}},
        {"customer": customer, "metric": "tokens", "transaction_id": "t2",
         "properties": {"tokens": "1", "direction": "sideways"}},
        {"customer": customer, "metric": "tokens", "transaction_id": "t3",
         "properties": {"tokens": "2", "direction": "output"}},
    ]
    batch = ok(await client.post("/v1/events/batch", json={"events": events}))
    assert (batch["accepted"], batch["rejected"]) == (2, 1)
    rejected = batch["results"][1]
    assert rejected["status"] == "rejected"
    assert (rejected["error"]["code"], rejected["error"]["param"], rejected["error"]["status"]) == (
        "invalid_property", "properties.direction", 422)
    assert sorted(e["transaction_id"] for e in await events_of(client, customer)) == ["t1", "t3"]
    assert (await wallet(client, customer))["available"] == "7.00"


async def test_estimate_and_deferred_metrics_check_declared_values_too(client):
    customer = await funded(client)
    await make_metric(client, "seats", "max", field="seats", filters={"plan": ["team"]})
    body = {"customer": customer, "metric": "seats", "transaction_id": "s1", "properties": {"seats": "3", "plan": "x"}}
    expect_error(await client.post("/v1/events/estimate", json=body), 422, "invalid_property")
    expect_error(await client.post("/v1/events", json=body), 422, "invalid_property")
    body["properties"]["plan"] = "team"
    ok(await client.post("/v1/events", json=body), 201)
