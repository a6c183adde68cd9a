"""webhooks/outbox.py: emit writes the event and one delivery per endpoint that wants it, in the caller's
transaction, and refuses what is not in the catalogue or not JSON."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from creditflow.db.tables import webhook_deliveries, webhook_events
from creditflow.db.tx import Tx
from creditflow.webhooks.events import EVENT_TYPES
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text
from tests.factories import ok


async def _emit(app: Any, event_type: str, data: dict[str, Any]) -> str:
    async with app.state.engine.begin() as conn:
        return await emit(Tx(conn=conn, now=app.state.clock.now(), actor="test"), event_type, data)


async def _count(app: Any, table: Any, *where: Any) -> int:
    async with app.state.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def _endpoint(client, events: list[str], url: str = "https://example.com/hooks") -> dict[str, Any]:
    return ok(await client.post("/v1/webhook_endpoints", json={"url": url, "events": events}), 201)


def test_the_catalogue_has_every_event_type_the_issue_asks_for():
    asked = {
        "customer.created", "wallet.low_balance", "wallet.depleted", "credit_grant.expired", "topup.paid",
        "topup.failed", "topup.expired", "topup.refunded", "topup.disputed", "invoice.created", "invoice.paid",
        "invoice.voided", "invoice.overdue", "subscription.created", "subscription.renewed", "subscription.past_due",
        "subscription.suspended", "subscription.canceled", "budget.threshold_reached", "budget.exceeded",
        "hold.expired", "auto_topup.succeeded", "auto_topup.failed", "payment_method.saved",
        "payment_method.detached",
        # Issue 15: the Lago API's own events.
        "wallet_transaction.created", "wallet_transaction.updated", "wallet.depleted_ongoing_balance",
        "invoice.payment_status_updated",
    }
    assert set(EVENT_TYPES) == asked


async def test_emit_writes_the_event_and_a_delivery_per_subscribed_endpoint(client, app, clock):
    wants = await _endpoint(client, ["topup.paid", "topup.failed"])
    also_wants = await _endpoint(client, ["topup.paid"])
    await _endpoint(client, ["invoice.paid"])

    event_id = await _emit(app, "topup.paid", {"topup": {"id": "top_1", "amount": amount_text(12_500_000, "USD")}})

    async with app.state.engine.connect() as conn:
        event = (await conn.execute(select(webhook_events).where(webhook_events.c.id == event_id))).one()
        deliveries = (
            await conn.execute(
                select(webhook_deliveries).where(webhook_deliveries.c.event_id == event_id)
                .order_by(webhook_deliveries.c.endpoint_id)
            )
        ).all()
    assert (event.type, event.data, event.actor, event.created_at) == (
        "topup.paid", {"topup": {"id": "top_1", "amount": "12.50"}}, "test", clock.now()
    )
    assert [(d.endpoint_id, d.status, d.attempts, d.next_attempt_at) for d in deliveries] == [
        (wants["id"], "pending", 0, clock.now()), (also_wants["id"], "pending", 0, clock.now()),
    ]


async def test_disabled_and_deleted_endpoints_get_no_delivery(client, app):
    disabled = await _endpoint(client, ["customer.created"])
    deleted = await _endpoint(client, ["customer.created"])
    ok(await client.patch(f"/v1/webhook_endpoints/{disabled['id']}", json={"disabled": True}))
    ok(await client.delete(f"/v1/webhook_endpoints/{deleted['id']}"))

    event_id = await _emit(app, "customer.created", {"customer": {"id": "cus_1"}})

    assert await _count(app, webhook_events, webhook_events.c.id == event_id) == 1
    assert await _count(app, webhook_deliveries, webhook_deliveries.c.event_id == event_id) == 0


async def test_an_event_nobody_subscribes_to_is_still_logged(app):
    event_id = await _emit(app, "hold.expired", {"hold": {"id": "hld_1"}})
    assert await _count(app, webhook_events, webhook_events.c.id == event_id) == 1
    assert await _count(app, webhook_deliveries) == 0


async def test_a_rolled_back_change_leaves_no_event_behind(client, app):
    await _endpoint(client, ["customer.created"])

    class Abort(Exception):
        pass

    with pytest.raises(Abort):
        async with app.state.engine.begin() as conn:
            await emit(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "customer.created", {"customer": {}})
            raise Abort

    assert await _count(app, webhook_events) == 0
    assert await _count(app, webhook_deliveries) == 0


async def test_an_unknown_event_type_is_a_programming_error(app):
    with pytest.raises(ValueError, match=r"unknown webhook event type 'topup\.exploded'"):
        await _emit(app, "topup.exploded", {})
    assert await _count(app, webhook_events) == 0


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"amount": 12.5}, r"data\.amount is a float"),
        ({"topup": {"paid_at": object()}}, r"data\.topup\.paid_at is a object"),
        ({"lines": [{"amount": 1}, {1: "x"}]}, r"data\.lines\[1\] has a non-string key"),
    ],
)
async def test_data_that_is_not_plain_json_is_refused(app, data, complaint):
    with pytest.raises(ValueError, match=complaint):
        await _emit(app, "invoice.paid", data)
    assert await _count(app, webhook_events) == 0


def test_amounts_and_times_are_written_as_the_api_shows_them(clock):
    assert amount_text(12_500_000, "USD") == "12.50"
    assert amount_text(25_000_000_000, "IDR") == "25000.00"
    assert amount_text(1, "CREDITS") == "0.000001"
    assert timestamp_text(clock.now()) == "2026-01-01T00:00:00Z"
