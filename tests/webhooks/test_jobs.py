"""webhooks/jobs.py in the job runner: each pass sends what is due, including what the pass itself emitted."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import customer_id, grant
from tests.webhooks.support import events_of, make_endpoint


async def test_a_runner_pass_delivers_due_webhooks(client, app, receiver):
    await make_endpoint(client, receiver, "crm", ["customer.created"])
    customer = await customer_id(client)

    await app.state.jobs.run_once()

    [got] = receiver.at("crm")
    assert got.payload["data"]["customer"]["id"] == customer
    [event] = await events_of(client)
    assert [d["status"] for d in event["deliveries"]] == ["delivered"]


async def test_events_emitted_by_a_pass_go_out_in_the_same_pass(client, app, clock, receiver):
    await make_endpoint(client, receiver, "ledger", ["credit_grant.expired"])
    customer = await customer_id(client)
    lot = (await grant(client, customer, "10", expires_at=(clock.now() + timedelta(hours=1)).isoformat()))["id"]
    clock.advance(hours=1)

    await app.state.jobs.run_once()

    [got] = receiver.at("ledger")
    assert (got.payload["type"], got.payload["data"]["credit_grant"]["id"]) == ("credit_grant.expired", lot)
    assert receiver.rejected == []
