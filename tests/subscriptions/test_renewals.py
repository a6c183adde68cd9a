"""Renewals by the job runner, on an injected clock: each period charged once; short balance -> past_due,
retried daily for the grace period, then suspended; a top-up renews at once; cancel and downgrade at the
period's end; periods missed while nothing ran are caught up."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from creditflow.invoices.models import Issuer
from creditflow.subscriptions.renewals import renew_due
from tests.factories import customer_id, grant, ok
from tests.subscriptions.support import available, invoices_of, make_plan, subscribe, subscription
from tests.topups.support import deliver, open_topup, sandbox_notification

FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)


async def _subscribed(client, balance: str, price: str = "25000", **plan_fields) -> tuple[str, dict]:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, balance)
    await make_plan(client, "n8n", price, **plan_fields)
    return customer, ok(await subscribe(client, customer, "n8n"), 201)


async def test_each_period_is_charged_once_at_its_start(app, client, clock) -> None:
    customer, created = await _subscribed(client, "100000")
    clock.set(FEB_1 - timedelta(seconds=1))
    await app.state.jobs.run_once()
    assert await available(client, customer) == "75000.00"
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    await app.state.jobs.run_once()
    renewed = await subscription(client, created["id"])
    assert (renewed["status"], renewed["current_period_start"], renewed["current_period_end"]) == (
        "active", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z"
    )
    assert await available(client, customer) == "50000.00"
    assert [i["total"] for i in await invoices_of(client, customer)] == ["25000.00", "25000.00"]


async def test_a_short_balance_is_past_due_retried_daily_then_suspended(app, client, clock) -> None:
    customer, created = await _subscribed(client, "30000")
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    due = await subscription(client, created["id"])
    assert (due["status"], due["past_due_since"], due["current_period_start"]) == (
        "past_due", "2026-02-01T00:00:00Z", "2026-02-01T00:00:00Z"
    )
    for day in (2, 3):
        clock.set(FEB_1 + timedelta(days=day - 1))
        await app.state.jobs.run_once()
        assert (await subscription(client, created["id"]))["status"] == "past_due"
    clock.set(FEB_1 + timedelta(days=3))
    await app.state.jobs.run_once()
    assert (await subscription(client, created["id"]))["status"] == "suspended"
    assert await available(client, customer) == "5000.00"
    assert len(await invoices_of(client, customer)) == 1


async def test_a_retry_that_finds_the_money_renews_the_same_period(app, client, clock) -> None:
    customer, created = await _subscribed(client, "30000")
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    await grant(client, customer, "20000")  # a manual grant does not renew by itself; the next retry does
    assert (await subscription(client, created["id"]))["status"] == "past_due"
    clock.set(FEB_1 + timedelta(days=1))
    await app.state.jobs.run_once()
    renewed = await subscription(client, created["id"])
    assert (renewed["status"], renewed["past_due_since"], renewed["current_period_end"]) == (
        "active", None, "2026-03-01T00:00:00Z"
    )
    assert await available(client, customer) == "0.00"


async def test_a_top_up_renews_a_past_due_subscription_at_once(app, client, clock) -> None:
    customer, created = await _subscribed(client, "30000")
    clock.set(FEB_1 + timedelta(hours=5))
    await app.state.jobs.run_once()
    opened = await open_topup(client, customer, "sandbox", amount="50000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    renewed = await subscription(client, created["id"])
    assert (renewed["status"], renewed["current_period_start"]) == ("active", "2026-02-01T00:00:00Z")
    assert await available(client, customer) == "30000.00"  # 5,000 left + 50,000 credited - 25,000 renewal


async def test_a_top_up_restarts_a_suspended_subscription_from_now(app, client, clock) -> None:
    customer, created = await _subscribed(client, "30000")
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    clock.set(FEB_1 + timedelta(days=3))
    await app.state.jobs.run_once()
    assert (await subscription(client, created["id"]))["status"] == "suspended"
    clock.set(FEB_1 + timedelta(days=10))
    opened = await open_topup(client, customer, "sandbox", amount="50000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    restarted = await subscription(client, created["id"])
    assert (restarted["status"], restarted["current_period_start"], restarted["current_period_end"]) == (
        "active", "2026-02-11T00:00:00Z", "2026-03-11T00:00:00Z"
    )


async def test_cancel_at_period_end_ends_it_without_a_charge(app, client, clock) -> None:
    customer, created = await _subscribed(client, "100000")
    ok(await client.post(f"/v1/subscriptions/{created['id']}/cancel", json={"at_period_end": True}))
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    ended = await subscription(client, created["id"])
    assert (ended["status"], ended["canceled_at"]) == ("canceled", "2026-02-01T00:00:00Z")
    assert await available(client, customer) == "75000.00"


async def test_a_downgrade_applies_at_renewal(app, client, clock) -> None:
    customer, created = await _subscribed(client, "100000")
    cheap = await make_plan(client, "n8n-lite", "10000")
    ok(await client.post(f"/v1/subscriptions/{created['id']}/change", json={"plan": "n8n-lite"}))
    clock.set(FEB_1)
    await app.state.jobs.run_once()
    renewed = await subscription(client, created["id"])
    assert (renewed["plan"], renewed["next_plan"]) == (cheap["id"], None)
    assert await available(client, customer) == "65000.00"


async def test_the_first_charge_comes_when_the_trial_ends(app, client, clock) -> None:
    customer, created = await _subscribed(client, "100000", trial_days=14)
    assert await available(client, customer) == "100000.00"
    clock.set(datetime(2026, 1, 15, tzinfo=UTC))
    await app.state.jobs.run_once()
    paid = await subscription(client, created["id"])
    assert (paid["status"], paid["current_period_start"], paid["current_period_end"]) == (
        "active", "2026-01-15T00:00:00Z", "2026-02-15T00:00:00Z"
    )
    assert await available(client, customer) == "75000.00"


async def test_periods_missed_while_nothing_ran_are_caught_up(app, client, clock) -> None:
    customer, created = await _subscribed(client, "100000")
    clock.set(datetime(2026, 4, 10, tzinfo=UTC))
    await app.state.jobs.run_once()
    caught_up = await subscription(client, created["id"])
    assert (caught_up["current_period_start"], caught_up["current_period_end"]) == (
        "2026-04-01T00:00:00Z", "2026-05-01T00:00:00Z"
    )
    assert await available(client, customer) == "0.00"
    assert len(await invoices_of(client, customer)) == 4


async def test_concurrent_runners_charge_a_period_once(app, client, clock, settings) -> None:
    customer, _ = await _subscribed(client, "100000")
    clock.set(FEB_1)
    issuer = Issuer.from_settings(settings)
    await asyncio.gather(*(renew_due(app.state.engine, clock, issuer, grace=timedelta(days=3)) for _ in range(4)))
    assert await available(client, customer) == "50000.00"
    assert len(await invoices_of(client, customer)) == 2
