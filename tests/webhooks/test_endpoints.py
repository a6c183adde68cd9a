"""webhooks/endpoints.py: endpoint CRUD with validation, the event log, resend."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from creditflow.webhooks.events import EVENT_TYPES
from tests.factories import customer_id, expect_error, ok
from tests.webhooks.support import deliver, event_detail, events_of

URL = "https://example.com/hooks/creditflow"


async def _create(client, **fields: Any) -> dict[str, Any]:
    body = {"url": URL, "events": ["customer.created"], **fields}
    return ok(await client.post("/v1/webhook_endpoints", json=body), 201)


async def test_create_returns_the_endpoint_with_its_signing_secret(client, clock):
    endpoint = await _create(client, events=["invoice.paid", "customer.created", "invoice.paid"], description="ERP")
    assert endpoint["object"] == "webhook_endpoint"
    assert endpoint["id"].startswith("whe_")
    assert endpoint["secret"].startswith("whsec_")
    assert (endpoint["url"], endpoint["description"], endpoint["disabled"]) == (URL, "ERP", False)
    assert endpoint["events"] == ["customer.created", "invoice.paid"]
    assert endpoint["created_at"] == endpoint["updated_at"] == "2026-01-01T00:00:00Z"


async def test_get_shows_the_secret_and_the_list_does_not(client):
    endpoint = await _create(client)
    assert ok(await client.get(f"/v1/webhook_endpoints/{endpoint['id']}"))["secret"] == endpoint["secret"]
    listed = ok(await client.get("/v1/webhook_endpoints"))
    assert [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert "secret" not in listed["data"][0]


async def test_a_replayed_create_redacts_the_secret(client):
    body = {"url": URL, "events": ["customer.created"]}
    headers = {"Idempotency-Key": "endpoint-1"}
    first = ok(await client.post("/v1/webhook_endpoints", json=body, headers=headers), 201)
    replay = await client.post("/v1/webhook_endpoints", json=body, headers=headers)
    assert replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["id"] == first["id"]
    assert replay.json()["secret"] == "[redacted]"
    assert len(ok(await client.get("/v1/webhook_endpoints"))["data"]) == 1


async def test_the_list_is_newest_first_with_a_cursor(client):
    first, second, third = [await _create(client) for _ in range(3)]
    page = ok(await client.get("/v1/webhook_endpoints", params={"limit": 2}))
    assert [e["id"] for e in page["data"]] == [third["id"], second["id"]]
    assert page["has_more"] is True
    rest = ok(await client.get("/v1/webhook_endpoints", params={"limit": 2, "starting_after": second["id"]}))
    assert ([e["id"] for e in rest["data"]], rest["has_more"]) == ([first["id"]], False)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": URL, "events": ["customer.created", "topup.exploded"]}, "events.1"),
        ({"url": URL, "events": []}, "events"),
        ({"url": URL}, "events"),
        ({"url": "not a url", "events": ["customer.created"]}, "url"),
        ({"url": "ftp://example.com/hooks", "events": ["customer.created"]}, "url"),
        ({"url": "https:///no-host", "events": ["customer.created"]}, "url"),
        ({"url": "https://example.com:99999/x", "events": ["customer.created"]}, "url"),
        ({"events": ["customer.created"]}, "url"),
        ({"url": URL, "events": ["customer.created"], "secret": "whsec_mine"}, "secret"),
    ],
)
async def test_bad_endpoints_are_422_naming_the_field(client, body, param):
    error = expect_error(await client.post("/v1/webhook_endpoints", json=body), 422, "validation_error")
    assert error["param"] == param
    assert ok(await client.get("/v1/webhook_endpoints"))["data"] == []


async def test_an_unknown_event_type_says_which(client):
    body = {"url": URL, "events": ["topup.exploded"]}
    error = expect_error(await client.post("/v1/webhook_endpoints", json=body), 422, "validation_error")
    assert "unknown event type 'topup.exploded'" in error["message"]


async def test_update_changes_only_what_is_sent(client, clock):
    endpoint = await _create(client, description="ERP")
    clock.advance(minutes=1)
    changed = ok(await client.patch(
        f"/v1/webhook_endpoints/{endpoint['id']}",
        json={"url": "https://example.com/v2", "events": ["invoice.voided", "invoice.paid"]},
    ))
    assert (changed["url"], changed["events"], changed["description"], changed["disabled"]) == (
        "https://example.com/v2", ["invoice.paid", "invoice.voided"], "ERP", False
    )
    assert changed["updated_at"] == "2026-01-01T00:01:00Z"
    cleared = ok(await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"description": None}))
    assert cleared["description"] is None
    assert "secret" not in cleared


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"url": None}, "url"),
        ({"events": None}, "events"),
        ({"disabled": None}, "disabled"),
        ({"events": ["budget.exploded"]}, "events.0"),
        ({"url": "mailto:ops@example.com"}, "url"),
        ({"secret": "whsec_mine"}, "secret"),
    ],
)
async def test_bad_updates_are_422_naming_the_field(client, body, param):
    endpoint = await _create(client)
    error = expect_error(
        await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json=body), 422, "validation_error"
    )
    assert error["param"] == param
    assert ok(await client.get(f"/v1/webhook_endpoints/{endpoint['id']}")) == {**endpoint}


async def test_delete_removes_it_and_cancels_what_it_still_had_to_receive(client, app):
    endpoint = await _create(client)
    await customer_id(client)
    deleted = ok(await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}"))
    assert deleted == {"object": "webhook_endpoint", "id": endpoint["id"], "deleted": True}

    expect_error(await client.get(f"/v1/webhook_endpoints/{endpoint['id']}"), 404, "not_found")
    expect_error(await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"disabled": True}), 404,
                 "not_found")
    expect_error(await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}"), 404, "not_found")
    assert ok(await client.get("/v1/webhook_endpoints"))["data"] == []
    [event] = await events_of(client, "customer.created")
    assert [(d["endpoint"], d["status"], d["next_attempt_at"]) for d in event["deliveries"]] == [
        (endpoint["id"], "canceled", None)
    ]
    assert await deliver(app) == 0


async def test_unknown_ids_are_404(client):
    expect_error(await client.get("/v1/webhook_endpoints/whe_nope"), 404, "not_found")
    expect_error(await client.get("/v1/webhook_events/msg_nope"), 404, "not_found")
    expect_error(await client.post("/v1/webhook_events/msg_nope/resend"), 404, "not_found")


async def test_the_routes_need_an_operator_key(app, client):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        expect_error(await anon.get("/v1/webhook_endpoints"), 401, "unauthenticated")
        expect_error(await anon.get("/v1/webhook_events"), 401, "unauthenticated")
        body = {"url": URL, "events": ["customer.created"]}
        expect_error(await anon.post("/v1/webhook_endpoints", json=body), 401, "unauthenticated")


async def test_the_event_types_are_listed(client):
    page = ok(await client.get("/v1/webhook_event_types", params={"limit": 100}))
    assert (page["object"], page["has_more"]) == ("list", False)
    listed = page["data"]
    assert [t["type"] for t in listed] == list(EVENT_TYPES)
    assert all(t["description"] for t in listed)


async def test_events_are_listed_newest_first_with_their_deliveries_and_filtered_by_type(client, clock):
    endpoint = await _create(client, events=["customer.created"])
    first = await customer_id(client)
    clock.advance(seconds=1)
    second = await customer_id(client)

    listed = await events_of(client)
    assert [e["data"]["customer"]["id"] for e in listed] == [second, first]
    assert listed[0]["type"] == "customer.created"
    assert listed[0]["object"] == "webhook_event"
    assert listed[0]["created_at"] == "2026-01-01T00:00:01Z"
    [delivery] = listed[0]["deliveries"]
    assert {k: delivery[k] for k in ("endpoint", "url", "status", "attempt_count", "next_attempt_at")} == {
        "endpoint": endpoint["id"], "url": URL, "status": "pending", "attempt_count": 0,
        "next_attempt_at": "2026-01-01T00:00:01Z",
    }
    assert await events_of(client, "invoice.paid") == []
    assert len(await events_of(client, "customer.created")) == 2

    page = ok(await client.get("/v1/webhook_events", params={"limit": 1}))
    assert page["has_more"] is True
    rest = ok(await client.get("/v1/webhook_events", params={"starting_after": page["data"][0]["id"]}))
    assert [e["data"]["customer"]["id"] for e in rest["data"]] == [first]


async def test_listing_an_unknown_type_is_422(client):
    error = expect_error(await client.get("/v1/webhook_events", params={"type": "nope"}), 422, "validation_error")
    assert error["param"] == "type"


async def test_resend_requeues_every_subscribed_endpoint_now(client, app, clock):
    old = await _create(client, events=["customer.created"])
    await customer_id(client)
    [event] = await events_of(client)
    later = await _create(client, events=["customer.created"])
    unsubscribed = await _create(client, events=["invoice.paid"])
    clock.advance(hours=1)

    resent = ok(await client.post(f"/v1/webhook_events/{event['id']}/resend"))

    assert sorted((d["endpoint"], d["status"], d["next_attempt_at"]) for d in resent["deliveries"]) == sorted([
        (old["id"], "pending", "2026-01-01T01:00:00Z"), (later["id"], "pending", "2026-01-01T01:00:00Z"),
    ])
    assert unsubscribed["id"] not in {d["endpoint"] for d in resent["deliveries"]}
    detail = await event_detail(client, event["id"])
    assert {d["endpoint"] for d in detail["deliveries"]} == {old["id"], later["id"]}
