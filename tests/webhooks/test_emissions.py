"""The events the existing domains emit, in the same transaction as the change: customers, invoices,
budget alerts, and expiry of holds and credit grants. Each payload is the object as the API shows it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from creditflow.invoices import service as invoices
from creditflow.jobs.expiry import sweep_due_wallets
from tests.factories import customer_id, debit, expect_error, grant, hold, make_budget, make_customer, ok
from tests.invoices.support import ISSUER, draft, issued, transaction
from tests.webhooks.support import events_of


async def _data(client, event_type: str) -> list[dict[str, Any]]:
    return [e["data"] for e in reversed(await events_of(client, event_type))]


async def test_creating_a_customer_emits_customer_created_with_the_customer(client):
    customer = await make_customer(client, name="Ada", email="ada@example.com", metadata={"plan": "pro"})
    assert await _data(client, "customer.created") == [{"customer": customer}]


async def test_a_refused_customer_emits_nothing(client):
    await make_customer(client, external_id="taken")
    expect_error(await client.post("/v1/customers", json={"external_id": "taken"}), 409, "customer_exists")
    assert len(await _data(client, "customer.created")) == 1


async def test_issuing_paying_and_voiding_invoices_emit_their_events(client, app):
    customer = await customer_id(client)
    unissued = await draft(app, customer)
    async with transaction(app) as tx:
        await invoices.void(tx, unissued.id)
    assert await events_of(client, "invoice.created") == []
    assert await events_of(client, "invoice.voided") == [], "a discarded draft was never announced"

    paid = await issued(app, customer)
    created = ok(await client.get(f"/v1/invoices/{paid.id}"))
    async with transaction(app) as tx:
        await invoices.mark_paid(tx, paid.id, via="bank", reference="TRX-1")
    voided = await issued(app, customer)
    async with transaction(app) as tx:
        await invoices.void(tx, voided.id)

    now_void = ok(await client.get(f"/v1/invoices/{voided.id}"))
    assert await _data(client, "invoice.created") == [
        {"invoice": created},
        {"invoice": {**now_void, "status": "finalized", "voided_at": None, "amount_due": now_void["total"]}},
    ]
    assert await _data(client, "invoice.paid") == [{"invoice": ok(await client.get(f"/v1/invoices/{paid.id}"))}]
    assert await _data(client, "invoice.voided") == [{"invoice": ok(await client.get(f"/v1/invoices/{voided.id}"))}]
    [paid_data] = await _data(client, "invoice.paid")
    assert (paid_data["invoice"]["status"], paid_data["invoice"]["total"]) == ("paid", "10.00")


async def test_a_rolled_back_invoice_emits_nothing(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer)

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with transaction(app) as tx:
            await invoices.finalize(tx, invoice.id, ISSUER)
            raise Abort
    assert await events_of(client, "invoice.created") == []


async def _alerts(client, budget: dict[str, Any]) -> list[dict[str, Any]]:
    return list(reversed(ok(await client.get("/v1/alerts", params={"budget": budget["id"], "limit": 100}))["data"]))


async def test_each_budget_alert_is_emitted_once_as_its_own_event(client):
    customer = await customer_id(client)
    await grant(client, customer, "1000")
    budget = await make_budget(client, customer=customer, amount="100", action="alert", thresholds=[50, 100])

    for amount in ("60", "30", "20", "5"):
        assert (await debit(client, customer, amount)).status_code == 201

    alerts = await _alerts(client, budget)
    assert sorted((a["kind"], a["threshold"], a["spent"]) for a in alerts) == [
        ("budget.exceeded", 100, "110.00"),
        ("budget.threshold_reached", 50, "60.00"),
        ("budget.threshold_reached", 100, "110.00"),
    ]
    reached = await _data(client, "budget.threshold_reached")
    exceeded = await _data(client, "budget.exceeded")
    assert sorted(e["alert"]["id"] for e in reached + exceeded) == sorted(a["id"] for a in alerts)
    assert {e["alert"]["id"]: e["alert"] for e in reached + exceeded} == {a["id"]: a for a in alerts}


async def test_a_blocking_budget_that_refuses_emits_nothing_more(client):
    customer = await customer_id(client)
    await grant(client, customer, "1000")
    budget = await make_budget(client, customer=customer, amount="100", thresholds=[100])
    assert (await debit(client, customer, "100")).status_code == 201

    expect_error(await debit(client, customer, "1"), 402, "budget_exceeded")

    [reached] = await _data(client, "budget.threshold_reached")
    assert (reached["alert"]["budget"], reached["alert"]["threshold"], reached["alert"]["spent"]) == (
        budget["id"], 100, "100.00"
    )
    assert await events_of(client, "budget.exceeded") == []


async def _expiring(client, clock) -> dict[str, str]:
    """10 expiring in an hour (3 spent), and a hold of 2 expiring in ten minutes."""
    customer = await customer_id(client)
    lot = (await grant(client, customer, "10", expires_at=(clock.now() + timedelta(hours=1)).isoformat()))["id"]
    assert (await debit(client, customer, "3")).status_code == 201
    held = ok(await hold(client, customer, "2", metadata={"job": "render-42"}), 201)["id"]
    return {"customer": customer, "lot": lot, "hold": held}


async def test_the_expiry_sweep_emits_hold_expired_and_credit_grant_expired(client, app, clock):
    made = await _expiring(client, clock)
    clock.advance(hours=1)

    assert await sweep_due_wallets(app.state.engine, clock.now()) == 1

    assert await _data(client, "hold.expired") == [{"hold": {
        "object": "hold", "id": made["hold"], "customer": made["customer"], "currency": "USD",
        "amount": "2.00", "captured": "0.00", "released": "2.00", "expires_at": "2026-01-01T00:10:00Z",
        "metadata": {"job": "render-42"},
    }}]
    assert await _data(client, "credit_grant.expired") == [{"credit_grant": {
        "object": "credit_grant", "id": made["lot"], "customer": made["customer"], "currency": "USD",
        "amount": "10.00", "expired": "7.00", "category": "paid", "source": "manual",
        "expires_at": "2026-01-01T01:00:00Z", "metadata": {},
    }}]
    [event] = await events_of(client, "hold.expired")
    assert event["created_at"] == "2026-01-01T01:00:00Z"
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 0
    assert len(await events_of(client, "hold.expired")) == 1, "expiry is announced once"


async def test_expiry_applied_lazily_by_a_spend_is_emitted_too(client, clock):
    made = await _expiring(client, clock)
    await grant(client, made["customer"], "5")
    clock.advance(minutes=10)

    assert (await debit(client, made["customer"], "1")).status_code == 201

    assert [d["hold"]["id"] for d in await _data(client, "hold.expired")] == [made["hold"]]
    assert await events_of(client, "credit_grant.expired") == []


async def test_a_lot_expiring_under_a_live_hold_reports_only_what_went_to_breakage(client, app, clock):
    customer = await customer_id(client)
    lot = (await grant(client, customer, "10", expires_at=(clock.now() + timedelta(minutes=10)).isoformat()))["id"]
    ok(await hold(client, customer, "4", expires_in=3600), 201)
    clock.advance(minutes=10)

    assert await sweep_due_wallets(app.state.engine, clock.now()) == 1

    [expired] = await _data(client, "credit_grant.expired")
    assert (expired["credit_grant"]["id"], expired["credit_grant"]["expired"]) == (lot, "6.00")
    assert await events_of(client, "hold.expired") == []
    clock.advance(minutes=50)
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 1
    [released] = await _data(client, "hold.expired")
    assert released["hold"]["released"] == "4.00"
