"""GET /v1/audit_events: filters by actor, resource and time, cursor pages; the log refuses edits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, update
from sqlalchemy.exc import DBAPIError

from creditflow.db.tables import audit_events
from tests.factories import customer_id, expect_error, grant, ok


async def test_filters_and_pages(client, clock) -> None:
    clock.set(datetime(2026, 4, 1, 9, tzinfo=UTC))
    first = await customer_id(client)
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    second = await customer_id(client)
    await grant(client, second, "5")
    everything = ok(await client.get("/v1/audit_events"))["data"]
    actor = everything[0]["actor"]["id"]
    assert len(ok(await client.get("/v1/audit_events", params={"actor": actor}))["data"]) == 3
    assert ok(await client.get("/v1/audit_events", params={"actor": "key_other"}))["data"] == []
    by_id = ok(await client.get("/v1/audit_events", params={"resource": first}))["data"]
    assert [e["resource_id"] for e in by_id] == [first]
    by_type = ok(await client.get("/v1/audit_events", params={"resource": "customer"}))["data"]
    assert [e["resource_id"] for e in by_type] == [second, first]
    day_two = ok(await client.get("/v1/audit_events", params={"from": "2026-04-02T00:00:00Z"}))["data"]
    assert len(day_two) == 2
    day_one = ok(await client.get("/v1/audit_events", params={"to": "2026-04-02T00:00:00Z"}))["data"]
    assert [e["action"] for e in day_one] == ["customer.create", "operator_key.create"]  # the test's own key
    page = ok(await client.get("/v1/audit_events", params={"limit": 2}))
    assert page["object"] == "list" and page["has_more"] is True
    rest = ok(await client.get("/v1/audit_events", params={"starting_after": page["data"][-1]["id"]}))
    assert [e["id"] for e in page["data"] + rest["data"]] == [e["id"] for e in everything]
    reversed_range = {"from": "2026-04-02T00:00:00Z", "to": "2026-04-01T00:00:00Z"}
    response = await client.get("/v1/audit_events", params=reversed_range)
    assert expect_error(response, 422, "invalid_request")["param"] == "from"


async def test_the_database_refuses_to_edit_or_delete_the_log(app, client) -> None:
    await customer_id(client)
    for statement in (update(audit_events).values(action="nothing"), delete(audit_events)):
        with pytest.raises(DBAPIError, match="append-only"):
            async with app.state.engine.begin() as conn:
                await conn.execute(statement)
    assert len(ok(await client.get("/v1/audit_events"))["data"]) == 2  # the test's key, the customer
