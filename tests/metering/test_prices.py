"""metering/prices.py through /v1/prices: validation per model, and which price an event takes."""

from __future__ import annotations

import pytest

from tests.factories import expect_error, make_customer, ok
from tests.metering._helpers import funded, make_metric, make_price, send

RANGES = [{"from": "0", "to": "10", "per_unit": "1.00", "flat": "0"}, {"from": "10", "to": None, "per_unit": "0.50"}]


@pytest.mark.parametrize(
    ("model", "properties"),
    [
        ("standard", {"amount": "0.002"}),
        ("package", {"amount": "5.00", "package_size": "100", "free_units": "10"}),
        ("graduated", {"ranges": RANGES}),
        ("volume", {"ranges": RANGES}),
        ("percentage", {"rate": "2.5", "fixed_amount": "0.30", "min": "0.50", "max": "10"}),
    ],
)
async def test_each_model_is_accepted_with_valid_properties(client, model, properties):
    await make_metric(client, "amount", "sum", field="amount")
    body = {"metric": "amount", "currency": "USD", "model": model, "properties": properties, "period": "month"}
    price = ok(await client.post("/v1/prices", json=body), 201)
    assert (price["model"], price["currency"], price["status"]) == (model, "USD", "active")
    assert price["properties"] == properties
    assert ok(await client.get(f"/v1/prices/{price['id']}")) == price


@pytest.mark.parametrize(
    ("model", "properties", "param"),
    [
        ("standard", {}, "properties.amount"),
        ("standard", {"amount": "-1"}, "properties.amount"),
        ("standard", {"amount": "abc"}, "properties.amount"),
        ("standard", {"amonut": "1"}, "properties.amonut"),
        ("package", {"amount": "5", "package_size": "0"}, "properties.package_size"),
        ("package", {"amount": "5", "package_size": "2.5"}, "properties.package_size"),
        ("graduated", {}, "properties.ranges"),
        ("graduated", {"ranges": []}, "properties.ranges"),
        ("graduated", {"ranges": [{"from": "1", "to": None, "per_unit": "1"}]}, "properties.ranges[0].from"),
        ("graduated", {"ranges": [{"from": "0", "to": "10", "per_unit": "1"}, {"from": "11", "to": None,
                                                                               "per_unit": "1"}]},
         "properties.ranges[1].from"),
        ("volume", {"ranges": [{"from": "0", "to": "10", "per_unit": "1"}]}, "properties.ranges[0].to"),
        ("volume", {"ranges": [{"from": "0", "to": None, "per_unit": "1"}, {"from": "0", "to": None,
                                                                             "per_unit": "1"}]},
         "properties.ranges[0].to"),
        ("percentage", {"rate": "1", "min": "5", "max": "1"}, "properties.max"),
        ("percentage", {}, "properties.rate"),
    ],
)
async def test_bad_properties_are_422_naming_the_field(client, model, properties, param):
    await make_metric(client, "amount", "sum", field="amount")
    body = {"metric": "amount", "currency": "USD", "model": model, "properties": properties}
    response = await client.post("/v1/prices", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == param


async def test_percentage_price_needs_a_sum_metric(client):
    await make_metric(client, "calls")
    body = {"metric": "calls", "currency": "USD", "model": "percentage", "properties": {"rate": "1"}}
    response = await client.post("/v1/prices", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "model"


async def test_price_for_unknown_metric_is_404(client):
    body = {"metric": "nope", "currency": "USD", "model": "standard", "properties": {"amount": "1"}}
    expect_error(await client.post("/v1/prices", json=body), 404, "not_found")


async def test_list_prices_filters_by_metric_and_customer(client):
    customer = (await make_customer(client))["id"]
    await make_metric(client, "calls")
    await make_metric(client, "sms")
    default = await make_price(client, "calls")
    override = await make_price(client, "calls", customer=customer)
    other = await make_price(client, "sms")
    assert [p["id"] for p in ok(await client.get("/v1/prices", params={"metric": "calls"}))["data"]] == [
        override["id"], default["id"]]
    assert [p["id"] for p in ok(await client.get("/v1/prices", params={"customer": customer}))["data"]] == [
        override["id"]]
    assert other["id"] in [p["id"] for p in ok(await client.get("/v1/prices"))["data"]]


async def test_percentage_price_charges_a_share_of_the_field(client):
    customer = await funded(client)
    await make_metric(client, "payments", "sum", field="amount")
    await make_price(client, "payments", "percentage", {"rate": "2.5", "fixed_amount": "0.30", "min": "0.50"})
    assert ok(await send(client, customer, "payments", "p1", properties={"amount": "100.00"}), 201)["cost"] == "2.80"
    assert ok(await send(client, customer, "payments", "p2", properties={"amount": "1.00"}), 201)["cost"] == "0.50"


async def test_customer_override_beats_the_default_price(client):
    alice = await funded(client)
    bob = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    await make_price(client, "calls", properties={"amount": "0.25"}, customer=alice)
    assert ok(await send(client, alice, "calls", "a1"), 201)["cost"] == "0.25"
    assert ok(await send(client, bob, "calls", "b1"), 201)["cost"] == "1.00"


async def test_customer_override_beats_a_more_specific_default(client):
    alice = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "3.00"}, filters={"model": ["gpt-4o"]})
    await make_price(client, "calls", properties={"amount": "0.25"}, customer=alice)
    event = ok(await send(client, alice, "calls", "a1", properties={"model": "gpt-4o"}), 201)
    assert event["cost"] == "0.25"


async def test_most_specific_matching_price_wins(client):
    customer = await funded(client)
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", properties={"amount": "1.00"})
    await make_price(client, "tokens", properties={"amount": "3.00"},
                     filters={"model": ["gpt-4o"], "direction": ["output"]})
    await make_price(client, "tokens", properties={"amount": "2.00"}, filters={"model": ["gpt-4o"]})
    cases = [
        ({"model": "gpt-4o", "direction": "output"}, "3.00"),
        ({"model": "gpt-4o", "direction": "input"}, "2.00"),
        ({"model": "gpt-4o"}, "2.00"),
        ({"model": "claude", "direction": "output"}, "1.00"),
    ]
    for n, (props, cost) in enumerate(cases):
        event = ok(await send(client, customer, "tokens", f"t{n}", properties={"tokens": "1", **props}), 201)
        assert event["cost"] == cost, props


async def test_price_in_the_customers_wallet_currency_is_preferred(client):
    customer = (await make_customer(client, currency="EUR"))["id"]
    ok(await client.post("/v1/credit_grants", json={"customer": customer, "amount": "10", "category": "paid"}), 201)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"}, currency="USD")
    await make_price(client, "calls", properties={"amount": "0.90"}, currency="EUR")
    event = ok(await send(client, customer, "calls", "c1"), 201)
    assert (event["cost"], event["currency"], event["wallet"]["available"]) == ("0.90", "EUR", "9.10")


async def test_no_matching_price_is_422_no_price(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", filters={"model": ["gpt-4o"]})
    error = expect_error(await send(client, customer, "calls", "c1", properties={"model": "claude"}), 422, "no_price")
    assert error["param"] == "metric"


async def test_metric_without_any_price_is_422_no_price(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    expect_error(await send(client, customer, "calls", "c1"), 422, "no_price")


async def test_archived_price_no_longer_applies(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    price = await make_price(client, "calls")
    assert ok(await client.post(f"/v1/prices/{price['id']}/archive"))["status"] == "archived"
    expect_error(await send(client, customer, "calls", "c1"), 422, "no_price")
