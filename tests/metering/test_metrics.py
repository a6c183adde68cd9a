"""metering/metrics.py through /v1/metrics: create, read, list, archive."""

from __future__ import annotations

from tests.factories import expect_error, make_customer, ok
from tests.metering._helpers import make_metric, make_price, send


async def test_create_metric_returns_201_with_its_definition(client):
    response = await client.post(
        "/v1/metrics", json={"code": "tokens", "name": "Tokens", "aggregation": "sum", "field": "tokens"}
    )
    body = ok(response, 201)
    assert body["id"].startswith("met")
    assert (body["code"], body["aggregation"], body["field"], body["status"]) == ("tokens", "sum", "tokens", "active")
    assert body["archived_at"] is None


async def test_duplicate_metric_code_is_409_metric_exists(client):
    first = await make_metric(client, "calls")
    error = expect_error(await client.post("/v1/metrics", json={"code": "calls", "name": "x", "aggregation": "count"}),
                         409, "metric_exists")
    assert error["param"] == "code"
    assert error["details"]["id"] == first["id"]


async def test_sum_metric_without_field_is_422_naming_field(client):
    response = await client.post("/v1/metrics", json={"code": "tokens", "name": "Tokens", "aggregation": "sum"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "field"


async def test_unknown_aggregation_is_422(client):
    response = await client.post("/v1/metrics", json={"code": "x", "name": "X", "aggregation": "avg"})
    assert response.status_code == 422, response.text


async def test_metric_code_with_invalid_characters_is_422(client):
    response = await client.post("/v1/metrics", json={"code": "Bad Code", "name": "X", "aggregation": "count"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "code"


async def test_get_metric_by_id_and_by_code(client):
    created = await make_metric(client, "calls")
    assert ok(await client.get(f"/v1/metrics/{created['id']}")) == created
    assert ok(await client.get("/v1/metrics/calls")) == created


async def test_get_unknown_metric_is_404(client):
    expect_error(await client.get("/v1/metrics/nope"), 404, "not_found")


async def test_list_metrics_newest_first_with_pagination(client):
    ids = [(await make_metric(client, f"m{n}"))["id"] for n in range(3)]
    page = ok(await client.get("/v1/metrics", params={"limit": 2}))
    assert page["object"] == "list" and page["has_more"] is True
    assert [m["id"] for m in page["data"]] == ids[::-1][:2]
    rest = ok(await client.get("/v1/metrics", params={"limit": 2, "starting_after": page["data"][-1]["id"]}))
    assert [m["id"] for m in rest["data"]] == [ids[0]] and rest["has_more"] is False


async def test_archive_metric_marks_it_archived(client, clock):
    await make_metric(client, "calls")
    archived = ok(await client.post("/v1/metrics/calls/archive"))
    assert archived["status"] == "archived"
    assert archived["archived_at"] is not None
    again = ok(await client.post("/v1/metrics/calls/archive"))
    assert again["archived_at"] == archived["archived_at"]


async def test_archived_metric_rejects_events(client):
    customer = (await make_customer(client))["id"]
    await make_metric(client, "calls")
    await make_price(client, "calls")
    ok(await client.post("/v1/metrics/calls/archive"))
    response = await send(client, customer, "calls", "t1")
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"]["param"] == "metric"


async def test_archived_metric_refuses_new_prices_409_metric_archived(client):
    await make_metric(client, "calls")
    ok(await client.post("/v1/metrics/calls/archive"))
    body = {"metric": "calls", "currency": "USD", "model": "standard", "properties": {"amount": "1"}}
    expect_error(await client.post("/v1/prices", json=body), 409, "metric_archived")
