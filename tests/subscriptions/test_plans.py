"""POST/GET /v1/plans and archive: what a subscriber pays each interval, and what it includes."""

from __future__ import annotations

from tests.factories import expect_error, ok
from tests.subscriptions.support import make_plan


async def test_a_plan_is_created_read_by_id_or_code_and_listed(client) -> None:
    plan = await make_plan(client, "n8n", "25000", included_credits={"amount": "1000", "currency": "CREDITS"},
                           trial_days=7)
    assert (plan["price"], plan["interval"], plan["trial_days"], plan["paid_credits_only"]) == (
        {"amount": "25000.00", "currency": "IDR"}, "month", 7, True
    )
    assert plan["included_credits"] == {"amount": "1000", "currency": "CREDITS", "rollover": False}
    assert ok(await client.get("/v1/plans/n8n"))["id"] == plan["id"]
    assert ok(await client.get(f"/v1/plans/{plan['id']}"))["code"] == "n8n"
    assert [p["code"] for p in ok(await client.get("/v1/plans"))["data"]] == ["n8n"]


async def test_included_credits_default_to_the_plans_currency(client) -> None:
    plan = await make_plan(client, "ghost", "35000", included_credits={"amount": "5000", "rollover": True})
    assert plan["included_credits"] == {"amount": "5000.00", "currency": "IDR", "rollover": True}


async def test_bad_plans_are_refused_naming_the_field(client) -> None:
    await make_plan(client, "wordpress", "30000")
    body = {"code": "wordpress", "name": "Again", "interval": "month", "price": {"amount": "1", "currency": "IDR"}}
    assert expect_error(await client.post("/v1/plans", json=body), 409, "plan_code_taken")["param"] == "code"
    cases = [
        ({"interval": "day"}, "interval"),
        ({"price": {"amount": "-1", "currency": "IDR"}}, "price.amount"),
        ({"price": {"amount": "0.001", "currency": "USD"}}, "price.amount"),
        ({"trial_days": -1}, "trial_days"),
        ({"code": "has space"}, "code"),
    ]
    for change, param in cases:
        response = await client.post("/v1/plans", json={**body, "code": "other", **change})
        assert response.status_code == 422, (change, response.text)
        assert response.json()["error"]["param"] == param, (change, response.text)
    assert [p["code"] for p in ok(await client.get("/v1/plans"))["data"]] == ["wordpress"]


async def test_an_archived_plan_takes_no_new_subscribers(client) -> None:
    await make_plan(client, "legacy", "10000")
    archived = ok(await client.post("/v1/plans/legacy/archive"))
    assert archived["status"] == "archived" and archived["archived_at"] is not None
    customer = ok(await client.post("/v1/customers", json={"external_id": "late", "currency": "IDR"}), 201)
    response = await client.post("/v1/subscriptions", json={"customer": customer["id"], "plan": "legacy"})
    expect_error(response, 409, "plan_archived")
    assert ok(await client.get("/v1/plans", params={"status": "active"}))["data"] == []
    expect_error(await client.get("/v1/plans/none"), 404, "not_found")
