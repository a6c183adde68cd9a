"""webhooks/delivery.py and jobs.py against a real HTTP receiver that verifies every signature: delivery,
per-endpoint filtering, retries with backoff on the injected clock, giving up after three days, resend,
and leases that keep two workers from sending the same attempt."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from typing import Any

import httpx
from sqlalchemy import func, select

from creditflow.db.engine import create_engine
from creditflow.db.tables import webhook_attempts
from creditflow.invoices import service as invoices
from creditflow.webhooks.delivery import LEASE, claim_due, record, send
from creditflow.webhooks.jobs import deliver_due
from creditflow.webhooks.retry import MAX_ATTEMPTS
from tests.factories import customer_id, ok, parse_time
from tests.invoices.support import ISSUER, issued, transaction
from tests.webhooks.support import HANG, deliver, event_detail, events_of, make_endpoint, seconds


async def _only_event(client, event_type: str = "customer.created") -> dict[str, Any]:
    [event] = await events_of(client, event_type)
    return event


async def _delivery(client, event_id: str) -> dict[str, Any]:
    [delivery] = (await event_detail(client, event_id))["deliveries"]
    return delivery


async def test_a_delivery_is_signed_and_the_receiver_verifies_it(client, app, clock, receiver):
    endpoint = await make_endpoint(client, receiver, "crm", ["customer.created"])
    customer = await customer_id(client, name="Ada")
    event = await _only_event(client)
    clock.advance(seconds=2)

    assert await deliver(app) == 1

    [got] = receiver.at("crm")
    assert receiver.rejected == []
    assert got.webhook_id == event["id"]
    assert got.timestamp == seconds("2026-01-01T00:00:02Z")
    assert got.payload["type"] == "customer.created"
    assert got.payload["timestamp"] == "2026-01-01T00:00:00Z"
    assert got.payload["data"]["customer"]["id"] == customer
    assert got.payload["data"]["customer"]["name"] == "Ada"
    delivery = await _delivery(client, event["id"])
    assert (delivery["endpoint"], delivery["status"], delivery["attempt_count"]) == (endpoint["id"], "delivered", 1)
    assert (delivery["next_attempt_at"], delivery["delivered_at"]) == (None, "2026-01-01T00:00:02Z")
    [attempt] = delivery["attempts"]
    assert (attempt["status_code"], attempt["error"], attempt["attempted_at"]) == (200, None, "2026-01-01T00:00:02Z")
    assert attempt["latency_ms"] >= 0
    assert await deliver(app) == 0
    assert len(receiver.at("crm")) == 1


async def test_each_endpoint_receives_only_the_types_it_subscribed_to(client, app, receiver):
    await make_endpoint(client, receiver, "crm", ["customer.created"])
    await make_endpoint(client, receiver, "erp", ["invoice.created", "invoice.paid"])
    await make_endpoint(client, receiver, "both", ["customer.created", "invoice.paid"])
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    async with transaction(app) as tx:
        await invoices.mark_paid(tx, invoice.id, via="bank")

    assert await deliver(app) == 5

    assert receiver.rejected == []
    assert [r.payload["type"] for r in receiver.at("crm")] == ["customer.created"]
    assert sorted(r.payload["type"] for r in receiver.at("erp")) == ["invoice.created", "invoice.paid"]
    assert sorted(r.payload["type"] for r in receiver.at("both")) == ["customer.created", "invoice.paid"]


async def test_a_failing_receiver_is_retried_with_backoff_until_it_recovers(client, app, clock, receiver):
    await make_endpoint(client, receiver, "flaky", ["customer.created"], answers=[500, 503])
    await customer_id(client)
    event = await _only_event(client)

    assert await deliver(app) == 1
    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["next_attempt_at"]) == ("pending", "2026-01-01T00:00:05Z")

    clock.advance(seconds=4)
    assert await deliver(app) == 0, "not due before its 5 s backoff"
    clock.advance(seconds=1)
    assert await deliver(app) == 1
    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["next_attempt_at"]) == ("pending", "2026-01-01T00:05:05Z")

    clock.advance(minutes=4, seconds=59)
    assert await deliver(app) == 0, "not due before its 5 min backoff"
    clock.advance(seconds=1)
    assert await deliver(app) == 1

    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["attempt_count"], delivery["delivered_at"]) == (
        "delivered", 3, "2026-01-01T00:05:05Z"
    )
    assert [(a["attempted_at"], a["status_code"], a["error"]) for a in delivery["attempts"]] == [
        ("2026-01-01T00:00:00Z", 500, "HTTP 500: receiver says no"),
        ("2026-01-01T00:00:05Z", 503, "HTTP 503: receiver says no"),
        ("2026-01-01T00:05:05Z", 200, None),
    ]
    got = receiver.at("flaky")
    assert receiver.rejected == []
    assert [r.webhook_id for r in got] == [event["id"]] * 3, "the webhook-id is the same on every retry"
    assert len({r.body for r in got}) == 1, "the same body on every retry"
    assert [r.timestamp for r in got] == [seconds(a["attempted_at"]) for a in delivery["attempts"]]


async def _fail_until_given_up(client, app, clock, event_id: str) -> dict[str, Any]:
    """Run the job at each next_attempt_at until the delivery stops being pending."""
    for _ in range(MAX_ATTEMPTS + 2):
        assert await deliver(app) == 1
        delivery = await _delivery(client, event_id)
        if delivery["status"] != "pending":
            return delivery
        clock.set(parse_time(delivery["next_attempt_at"]))
    raise AssertionError("the delivery never gave up")


async def test_a_receiver_down_for_more_than_three_days_ends_failed(client, app, clock, receiver):
    await make_endpoint(client, receiver, "down", ["customer.created"], answers=[500] * 50)
    await customer_id(client)
    event = await _only_event(client)
    start = clock.now()

    delivery = await _fail_until_given_up(client, app, clock, event["id"])

    assert (delivery["status"], delivery["attempt_count"], delivery["next_attempt_at"]) == (
        "failed", MAX_ATTEMPTS, None
    )
    times = [parse_time(a["attempted_at"]) for a in delivery["attempts"]]
    assert times[-1] - start > timedelta(days=3)
    waits = [b - a for a, b in pairwise(times)]
    assert waits[:3] == [timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30)]
    assert waits == sorted(waits), "the waits only grow"
    assert len(receiver.at("down")) == MAX_ATTEMPTS
    clock.advance(days=30)
    assert await deliver(app) == 0
    assert len(receiver.at("down")) == MAX_ATTEMPTS


async def test_a_failed_event_resent_after_the_receiver_is_fixed_is_delivered(client, app, clock, receiver):
    await make_endpoint(client, receiver, "down", ["customer.created"], answers=[500] * 50)
    await customer_id(client)
    event = await _only_event(client)
    await _fail_until_given_up(client, app, clock, event["id"])
    receiver.answer_next("down", [])
    clock.advance(days=1)

    resent = ok(await client.post(f"/v1/webhook_events/{event['id']}/resend"))
    [delivery] = resent["deliveries"]
    assert (delivery["status"], delivery["next_attempt_at"]) == ("pending", ok_time(clock))
    assert await deliver(app) == 1

    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["attempt_count"]) == ("delivered", MAX_ATTEMPTS + 1)
    assert delivery["attempts"][-1]["status_code"] == 200
    assert receiver.at("down")[-1].webhook_id == event["id"]


def ok_time(clock) -> str:
    return clock.now().isoformat().replace("+00:00", "Z")


async def test_a_resend_restarts_the_backoff_schedule(client, app, clock, receiver):
    await make_endpoint(client, receiver, "flaky", ["customer.created"], answers=[500, 500, 500])
    await customer_id(client)
    event = await _only_event(client)
    for _ in range(2):
        assert await deliver(app) == 1
        clock.set(parse_time((await _delivery(client, event["id"]))["next_attempt_at"]))
    assert (await _delivery(client, event["id"]))["next_attempt_at"] == "2026-01-01T00:05:05Z"

    ok(await client.post(f"/v1/webhook_events/{event['id']}/resend"))
    assert await deliver(app) == 1

    delivery = await _delivery(client, event["id"])
    assert delivery["attempt_count"] == 3
    next_due = parse_time(delivery["next_attempt_at"]) - clock.now()
    assert next_due == timedelta(seconds=5), "after a resend the backoff starts over"


async def test_a_delivered_event_can_be_resent(client, app, receiver):
    await make_endpoint(client, receiver, "crm", ["customer.created"])
    await customer_id(client)
    event = await _only_event(client)
    assert await deliver(app) == 1
    ok(await client.post(f"/v1/webhook_events/{event['id']}/resend"))
    assert await deliver(app) == 1
    assert [r.webhook_id for r in receiver.at("crm")] == [event["id"], event["id"]]
    assert (await _delivery(client, event["id"]))["status"] == "delivered"


async def test_an_answer_that_does_not_come_in_time_is_a_failed_attempt(client, app, receiver):
    await make_endpoint(client, receiver, "slow", ["customer.created"], answers=[HANG])
    await customer_id(client)
    event = await _only_event(client)

    assert await deliver(app, wait_seconds=0.3) == 1

    delivery = await _delivery(client, event["id"])
    [attempt] = delivery["attempts"]
    assert (attempt["status_code"], attempt["error"]) == (None, "no answer within 0.3 s")
    assert 250 <= attempt["latency_ms"] < 2000
    assert delivery["status"] == "pending"


async def test_an_unreachable_endpoint_is_a_failed_attempt(client, app):
    body = {"url": "http://127.0.0.1:9/nobody-listens", "events": ["customer.created"]}
    ok(await client.post("/v1/webhook_endpoints", json=body), 201)
    await customer_id(client)
    event = await _only_event(client)

    assert await deliver(app) == 1

    delivery = await _delivery(client, event["id"])
    [attempt] = delivery["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("ConnectError")
    assert (delivery["status"], delivery["next_attempt_at"]) == ("pending", "2026-01-01T00:00:05Z")


async def test_a_disabled_endpoint_waits_and_gets_its_pending_events_when_enabled(client, app, receiver):
    endpoint = await make_endpoint(client, receiver, "crm", ["customer.created"])
    await customer_id(client)
    ok(await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"disabled": True}))
    await customer_id(client)

    assert await deliver(app) == 0
    assert receiver.at("crm") == []

    ok(await client.patch(f"/v1/webhook_endpoints/{endpoint['id']}", json={"disabled": False}))
    assert await deliver(app) == 1
    assert len(receiver.at("crm")) == 1, "what was emitted while it was disabled is not sent"


async def test_a_claimed_delivery_is_leased_to_its_worker(client, app, clock, receiver):
    await make_endpoint(client, receiver, "crm", ["customer.created"])
    await customer_id(client)
    engine = app.state.engine

    [claimed] = await claim_due(engine, clock.now(), limit=10)
    assert await claim_due(engine, clock.now(), limit=10) == []
    clock.advance(seconds=LEASE.total_seconds() - 1)
    assert await claim_due(engine, clock.now(), limit=10) == [], "still leased"

    # The worker died without recording: once the lease runs out another worker takes the delivery over.
    clock.advance(seconds=1)
    [again] = await claim_due(engine, clock.now(), limit=10)
    assert again.delivery_id == claimed.delivery_id and again.lease_token != claimed.lease_token
    async with _client() as http:
        outcome = await send(http, again, clock, wait_seconds=5)
        stale = await send(http, claimed, clock, wait_seconds=5)
    assert await record(engine, again, outcome, clock.now()) == "delivered"
    assert await record(engine, claimed, stale, clock.now()) == "superseded"
    delivery = (await event_detail(client, claimed.event_id))["deliveries"][0]
    assert (delivery["status"], delivery["attempt_count"], len(delivery["attempts"])) == ("delivered", 2, 2)


def _client() -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=5)


async def test_a_resend_during_an_attempt_wins_over_its_outcome(client, app, clock, receiver):
    await make_endpoint(client, receiver, "crm", ["customer.created"], answers=[500])
    await customer_id(client)
    event = await _only_event(client)
    [claimed] = await claim_due(app.state.engine, clock.now(), limit=10)

    ok(await client.post(f"/v1/webhook_events/{event['id']}/resend"))
    async with _client() as http:
        outcome = await send(http, claimed, clock, wait_seconds=5)
    assert await record(app.state.engine, claimed, outcome, clock.now()) == "superseded"

    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["next_attempt_at"], delivery["attempt_count"]) == (
        "pending", "2026-01-01T00:00:00Z", 1
    )
    assert await deliver(app) == 1
    assert (await _delivery(client, event["id"]))["status"] == "delivered"


async def test_deleting_an_endpoint_during_an_attempt_keeps_the_delivery_canceled(client, app, clock, receiver):
    endpoint = await make_endpoint(client, receiver, "crm", ["customer.created"])
    await customer_id(client)
    event = await _only_event(client)
    [claimed] = await claim_due(app.state.engine, clock.now(), limit=10)

    ok(await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}"))
    async with _client() as http:
        outcome = await send(http, claimed, clock, wait_seconds=5)
    assert await record(app.state.engine, claimed, outcome, clock.now()) == "superseded"

    delivery = await _delivery(client, event["id"])
    assert (delivery["status"], delivery["attempt_count"], len(delivery["attempts"])) == ("canceled", 1, 1)


async def test_two_runners_never_send_the_same_delivery_twice(client, app, clock, receiver, settings):
    await make_endpoint(client, receiver, "a", ["customer.created"])
    await make_endpoint(client, receiver, "b", ["customer.created"])
    for _ in range(20):
        await customer_id(client)
    receiver.delay = 0.01
    # Two workers, each with its own engine (its own connections), as two processes would have.
    engines = [create_engine(settings) for _ in range(2)]
    sent: list[int] = [0, 0]

    async def runner(n: int) -> None:
        while made := await deliver_due(engines[n], clock, limit=3):
            sent[n] += made

    try:
        await asyncio.gather(runner(0), runner(1))
    finally:
        for engine in engines:
            await engine.dispose()

    assert sum(sent) == 40
    if not settings.is_sqlite:
        assert all(sent), f"both runners took part: {sent}"
    for path in ("a", "b"):
        counts = Counter(r.webhook_id for r in receiver.at(path))
        assert len(counts) == 20 and set(counts.values()) == {1}, f"{path} got a duplicate: {counts}"
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(webhook_attempts))).scalar_one() == 40
    statuses = Counter(d["status"] for e in await events_of(client) for d in e["deliveries"])
    assert statuses == {"delivered": 40}


async def test_the_body_is_exactly_what_the_event_log_shows(client, app, receiver):
    await make_endpoint(client, receiver, "erp", ["invoice.created"])
    customer = await customer_id(client)
    invoice = await issued(app, customer, issuer=ISSUER)
    assert await deliver(app) == 1
    [got] = receiver.at("erp")
    [event] = await events_of(client, "invoice.created")
    assert json.loads(got.body)["data"] == event["data"]
    assert event["data"]["invoice"]["id"] == invoice.id
