"""POST /v1/budgets/{id}/reset: a new period starts now and ends with the calendar's; the reset is audited."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from creditflow.db.tables import budget_resets
from tests.factories import customer_id, debit, expect_error, grant, make_budget, ok


async def test_a_reset_starts_a_new_period_now_and_records_who_asked(app, client, clock):
    clock.set(datetime(2026, 3, 15, 10, tzinfo=UTC))
    customer = await customer_id(client)
    await grant(client, customer, "100")
    budget = await make_budget(client, customer=customer, amount="10.00", thresholds=[80])
    assert (await debit(client, customer, "8")).status_code == 201
    expect_error(await debit(client, customer, "3"), 402, "budget_exceeded")

    clock.set(datetime(2026, 3, 20, 12, tzinfo=UTC))
    reset = ok(await client.post(f"/v1/budgets/{budget['id']}/reset"))
    assert reset["current_period"] == {
        "start": "2026-03-20T12:00:00Z", "end": "2026-04-01T00:00:00Z",
        "spent": "0.00", "reserved": "0.00", "remaining": "10.00",
    }
    assert reset["reset_at"] == "2026-03-20T12:00:00Z"
    assert (await debit(client, customer, "9")).status_code == 201
    alerts = ok(await client.get("/v1/alerts", params={"budget": budget["id"]}))["data"]
    assert [a["period_start"] for a in alerts] == ["2026-03-20T12:00:00Z", "2026-03-01T00:00:00Z"]

    clock.set(datetime(2026, 4, 2, tzinfo=UTC))
    assert ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]["start"] == "2026-04-01T00:00:00Z"
    async with app.state.engine.connect() as conn:
        (audit,) = (await conn.execute(select(budget_resets))).all()
    assert (audit.budget_id, audit.spent, audit.reserved) == (budget["id"], 8_000_000, 0)
    assert audit.actor.startswith("key:"), "the operator key that asked"
    assert audit.previous_period_start == datetime(2026, 3, 1, tzinfo=UTC)


async def test_an_archived_or_unknown_budget_cannot_be_reset(client):
    customer = await customer_id(client)
    budget = await make_budget(client, customer=customer, amount="10.00")
    ok(await client.post(f"/v1/budgets/{budget['id']}/archive"))
    expect_error(await client.post(f"/v1/budgets/{budget['id']}/reset"), 409, "conflict")
    expect_error(await client.post("/v1/budgets/bdg_nope/reset"), 404, "not_found")
