"""Period close (src/creditflow/billing/period_close.py): once a customer's month and the late window are
over, usage of max, unique_count and latest metrics is invoiced and collected from the balance; a shortfall
leaves the invoice open, makes subscriptions past_due and is collected first from the next top-up; the month
then refuses events."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from creditflow.billing.period_close import close_due
from creditflow.invoices.models import Issuer
from tests.factories import expect_error, make_customer, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, make_price, send
from tests.subscriptions.support import invoices_of, make_plan, subscribe, subscription
from tests.topups.support import deliver, open_topup, sandbox_notification

JAN_10 = datetime(2026, 1, 10, 12, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)


async def _seats_customer(client, clock, balance: str) -> str:
    clock.set(JAN_10)
    customer = (await make_customer(client, currency="IDR"))["id"]
    if balance != "0":
        ok(await client.post("/v1/credit_grants",
                             json={"customer": customer, "amount": balance, "category": "paid"}), 201)
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", currency="IDR", properties={"amount": "1000"}, period="month")
    for n, seats in enumerate((3, 7, 5)):
        ok(await send(client, customer, "seats", f"s-{n}", properties={"seats": seats}), 201)
    return customer


async def _run_at(app, clock, moment: datetime) -> None:
    clock.set(moment)
    await app.state.jobs.run_once()


async def test_a_closed_month_is_invoiced_and_paid_from_the_balance_once(app, client, clock) -> None:
    customer = await _seats_customer(client, clock, "10000")
    await _run_at(app, clock, FEB_1 + timedelta(hours=23))  # within the late window: still open
    assert await invoices_of(client, customer) == []
    await _run_at(app, clock, FEB_1 + timedelta(hours=25))
    await _run_at(app, clock, FEB_1 + timedelta(hours=26))
    [invoice] = await invoices_of(client, customer)
    assert [(line["description"], line["amount"]) for line in invoice["lines"]] == [("seats: usage 2026-01",
                                                                                     "7000.00")]
    assert (invoice["status"], invoice["amount_due"], invoice["paid_via"]) == ("paid", "0.00", "balance")
    assert (await wallet(client, customer, "IDR"))["available"] == "3000.00"
    assert await ledger_problems(app) == []


async def test_a_closed_month_refuses_events(app, client, clock) -> None:
    customer = await _seats_customer(client, clock, "10000")
    clock.set(FEB_1 + timedelta(hours=2))
    await close_due(app.state.engine, clock, Issuer.from_settings(app.state.settings), late_window=timedelta(hours=1),
                    grace=timedelta(days=3))
    late = await send(client, customer, "seats", "late", timestamp="2026-01-31T23:00:00Z", properties={"seats": 9})
    assert expect_error(late, 422, "period_closed")["param"] == "timestamp"
    ok(await send(client, customer, "seats", "now", properties={"seats": 9}), 201)


async def test_a_shortfall_leaves_the_invoice_open_until_the_next_top_up(app, client, clock) -> None:
    customer = await _seats_customer(client, clock, "28000")
    await make_plan(client, "n8n", "25000")
    created = ok(await subscribe(client, customer, "n8n"), 201)
    await _run_at(app, clock, FEB_1 + timedelta(hours=25))
    [_, usage] = await invoices_of(client, customer)
    assert (usage["status"], usage["total"], usage["amount_due"]) == ("finalized", "7000.00", "4000.00")
    assert (await subscription(client, created["id"]))["status"] == "past_due"
    opened = await open_topup(client, customer, "sandbox", amount="10000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    paid = ok(await client.get(f"/v1/invoices/{usage['id']}"))
    assert (paid["status"], paid["amount_due"]) == ("paid", "0.00")
    assert (await subscription(client, created["id"]))["status"] == "active"
    assert (await wallet(client, customer, "IDR"))["available"] == "6000.00"
    assert await ledger_problems(app) == []


async def test_concurrent_closers_invoice_a_month_once(app, client, clock) -> None:
    customer = await _seats_customer(client, clock, "10000")
    clock.set(FEB_1 + timedelta(hours=25))
    issuer = Issuer.from_settings(app.state.settings)
    await asyncio.gather(*(close_due(app.state.engine, clock, issuer, late_window=timedelta(hours=24),
                                     grace=timedelta(days=3)) for _ in range(3)))
    assert len(await invoices_of(client, customer)) == 1
