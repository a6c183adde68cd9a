"""Invoice terms: due_at from the customer's net terms (or the configured default) on invoices with something
due; the daily overdue job at the configured hour of the seller's day sets payment_overdue, raises
invoice.overdue and emails one reminder, once."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from creditflow.config import Settings
from creditflow.db.tables import webhook_events
from creditflow.invoices.jobs import last_check
from tests.factories import make_customer, ok
from tests.mail.smtp_sink import SmtpSink, smtp

__all__ = ["smtp"]
from tests.metering._helpers import make_metric, make_price, send
from tests.subscriptions.support import invoices_of

JAN_10 = datetime(2026, 1, 10, 12, tzinfo=UTC)


@pytest.fixture
def settings(database_url: str, smtp: SmtpSink) -> Settings:
    return smtp.settings(database_url).model_copy(update={"invoice_overdue_hour": 9, "invoice_net_terms_days": 30})


async def _unpaid_usage_invoice(app, client, clock, **customer_fields) -> tuple[str, dict]:
    """A January usage invoice of 7,000 IDR the empty balance cannot pay, issued at 01:00 on 2 February."""
    clock.set(JAN_10)
    customer = (await make_customer(client, currency="IDR", email="ap@example.com", **customer_fields))["id"]
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", currency="IDR", properties={"amount": "1000"}, period="month")
    ok(await send(client, customer, "seats", "s-1", properties={"seats": 7}), 201)
    clock.set(datetime(2026, 2, 2, 1, tzinfo=UTC))
    await app.state.jobs.run_once()
    [invoice] = await invoices_of(client, customer)
    return customer, invoice


async def test_an_unpaid_invoice_becomes_overdue_at_the_hour_after_its_due_date_once(app, client, clock, smtp):
    _, invoice = await _unpaid_usage_invoice(app, client, clock, net_terms_days=10)
    assert (invoice["amount_due"], invoice["due_at"], invoice["payment_overdue"]) == (
        "7000.00", "2026-02-12T01:00:00Z", False
    )
    clock.set(datetime(2026, 2, 12, 8, 59, tzinfo=UTC))
    await app.state.jobs.run_once()
    assert ok(await client.get(f"/v1/invoices/{invoice['id']}"))["payment_overdue"] is False

    clock.set(datetime(2026, 2, 12, 9, tzinfo=UTC))
    await app.state.jobs.run_once()
    await app.state.jobs.run_once()
    overdue = ok(await client.get(f"/v1/invoices/{invoice['id']}"))
    assert (overdue["status"], overdue["payment_overdue"]) == ("finalized", True)
    reminders = [m for m in smtp.messages if "overdue" in m["Subject"]]
    assert [m["Subject"] for m in reminders] == [f"Invoice {invoice['number']} is overdue"]
    async with app.state.engine.connect() as conn:
        events = (await conn.execute(select(webhook_events.c.data).where(webhook_events.c.type == "invoice.overdue")))
        assert [e.data["invoice"]["id"] for e in events] == [invoice["id"]]


async def test_the_configured_terms_apply_without_the_customers_own_and_a_paid_invoice_has_no_due_date(
    app, client, clock
):
    customer, invoice = await _unpaid_usage_invoice(app, client, clock)
    assert invoice["due_at"] == "2026-03-04T01:00:00Z"
    ok(await client.post("/v1/credit_grants", json={"customer": customer, "amount": "7000", "category": "paid"}),
       201)
    await app.state.jobs.run_once()
    paid = ok(await client.get(f"/v1/invoices/{invoice['id']}"))
    assert (paid["status"], paid["due_at"], paid["payment_overdue"]) == ("paid", None, False)
    changed = ok(await client.patch(f"/v1/customers/{customer}", json={"net_terms_days": 45}))
    assert changed["net_terms_days"] == 45
    assert ok(await client.patch(f"/v1/customers/{customer}", json={"net_terms_days": None}))["net_terms_days"] is None


def test_the_check_is_the_last_overdue_hour_in_the_sellers_time_zone():
    jakarta = "Asia/Jakarta"  # UTC+7: 09:00 there is 02:00 UTC
    assert last_check(datetime(2026, 2, 12, 2, tzinfo=UTC), 9, jakarta) == datetime(2026, 2, 12, 2, tzinfo=UTC)
    assert last_check(datetime(2026, 2, 12, 1, 59, tzinfo=UTC), 9, jakarta) == datetime(2026, 2, 11, 2, tzinfo=UTC)
    assert last_check(datetime(2026, 2, 12, 1, tzinfo=UTC), 0, "UTC") == datetime(2026, 2, 12, tzinfo=UTC)
