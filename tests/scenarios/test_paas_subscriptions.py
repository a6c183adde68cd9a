"""Scenario: a PaaS sells monthly services paid from a prepaid rupiah balance (issue 5, on an injected clock).

Ayu tops up IDR 100,000 through Midtrans and subscribes to n8n (25,000), Ghost (35,000) and WordPress (30,000)
a month. She tops up 170,000 more, and the three renew twice. The next renewal finds nothing left: all three
go past_due, are retried daily, and are suspended after the 3-day grace period. Her next top-up restarts
them at once. Every invoice, every webhook (verified with its Standard Webhooks signature by a real HTTP
receiver) and every email (received by a real SMTP server) is checked along the way.
"""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from creditflow.clock import ManualClock
from creditflow.config import Settings
from tests.factories import customer_id, ok, wallet
from tests.mail.smtp_sink import SmtpSink, smtp
from tests.payments.fakes import midtrans_server
from tests.subscriptions.support import invoices_of, make_plan, subscribe
from tests.topups.fixtures import START, Fakes, clock, clock_ref, fakes, gateway_client
from tests.topups.support import assert_ledger_consistent, deliver, open_topup
from tests.webhooks.conftest import receiver
from tests.webhooks.support import make_endpoint

__all__ = ["clock", "clock_ref", "fakes", "gateway_client", "receiver", "smtp"]

EVENTS = ["topup.paid", "subscription.created", "subscription.renewed", "subscription.past_due",
          "subscription.suspended", "invoice.paid"]


@pytest.fixture
def settings(database_url: str, fakes: Fakes, smtp: SmtpSink) -> Settings:
    return Settings(
        database_url=database_url, jobs_enabled=False, public_url="http://creditflow.test",
        midtrans_server_key=midtrans_server.SERVER_KEY, midtrans_client_key=midtrans_server.CLIENT_KEY,
        midtrans_snap_base=fakes.midtrans.url, midtrans_core_base=fakes.midtrans.url,
        smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_from="billing@paas.test",
    )


async def _top_up(client, gateway_client, fakes: Fakes, customer: str, amount: str) -> None:
    opened = await open_topup(client, customer, "midtrans", amount=amount, currency="IDR")
    fakes.midtrans.choose(opened["id"], "bank_transfer")
    await deliver(gateway_client, "midtrans", fakes.midtrans.settle(opened["id"]))


async def _at(app, clock: ManualClock, moment) -> None:
    clock.set(moment)
    await app.state.jobs.run_once()


async def _statuses(client, customer: str) -> list[str]:
    found = ok(await client.get("/v1/subscriptions", params={"customer": customer}))["data"]
    return sorted(s["status"] for s in found)


async def test_a_paas_customer_through_renewals_suspension_and_restart(
    app, client, gateway_client, fakes, clock, smtp, receiver
) -> None:
    await make_endpoint(client, receiver, "paas", EVENTS)
    ayu = await customer_id(client, currency="IDR", name="Ayu Lestari", email="ayu@example.co.id",
                            timezone="Asia/Jakarta")
    for code, price in (("n8n", "25000"), ("ghost", "35000"), ("wordpress", "30000")):
        await make_plan(client, code, price, name=code.title())

    await _top_up(client, gateway_client, fakes, ayu, "100000")
    for code in ("n8n", "ghost", "wordpress"):
        ok(await subscribe(client, ayu, code), 201)
    assert (await wallet(client, ayu, "IDR"))["available"] == "10000.00"
    await _top_up(client, gateway_client, fakes, ayu, "170000")
    await app.state.jobs.run_once()

    # Two renewals, a month apart (the anchor is 16:00 in Jakarta, 09:00 UTC).
    for months in (1, 2):
        await _at(app, clock, START.replace(month=START.month + months))
        assert await _statuses(client, ayu) == ["active"] * 3
    assert (await wallet(client, ayu, "IDR"))["available"] == "0.00"

    # The third finds nothing: past_due, retried daily, suspended after 3 days.
    june = START.replace(month=6)
    await _at(app, clock, june)
    assert await _statuses(client, ayu) == ["past_due"] * 3
    for day in (1, 2):
        await _at(app, clock, june + timedelta(days=day))
        assert await _statuses(client, ayu) == ["past_due"] * 3
    await _at(app, clock, june + timedelta(days=3))
    assert await _statuses(client, ayu) == ["suspended"] * 3

    # A top-up restarts all three at once, from that moment.
    clock.set(june + timedelta(days=5))
    await _top_up(client, gateway_client, fakes, ayu, "100000")
    subscriptions = ok(await client.get("/v1/subscriptions", params={"customer": ayu}))["data"]
    assert {(s["status"], s["current_period_start"]) for s in subscriptions} == {("active", "2026-06-07T09:00:00Z")}
    assert (await wallet(client, ayu, "IDR"))["available"] == "10000.00"
    await app.state.jobs.run_once()

    invoices = await invoices_of(client, ayu)
    assert all(invoice["status"] == "paid" for invoice in invoices)
    topup_invoices = [i for i in invoices if i["paid_via"] == "midtrans"]
    assert [(i["subtotal"], i["tax"], i["total"]) for i in topup_invoices] == [
        ("100000.00", "11000.00", "111000.00"), ("170000.00", "18700.00", "188700.00"),
        ("100000.00", "11000.00", "111000.00"),
    ]
    plan_invoices = [i for i in invoices if i["paid_via"] == "balance"]
    assert Counter(i["total"] for i in plan_invoices) == {"25000.00": 4, "35000.00": 4, "30000.00": 4}
    assert all(i["tax"] == "0.00" for i in plan_invoices)

    received = Counter(r.payload["type"] for r in receiver.at("paas"))
    assert received == {"topup.paid": 3, "subscription.created": 3, "subscription.renewed": 9,
                        "subscription.past_due": 3, "subscription.suspended": 3, "invoice.paid": 15}
    assert receiver.rejected == []

    subjects = Counter(message["Subject"] for message in smtp.messages)
    assert subjects == {
        "Receipt for your top-up of 111000.00 IDR": 2, "Receipt for your top-up of 188700.00 IDR": 1,
        "Payment due for N8N": 1, "Payment due for Ghost": 1, "Payment due for Wordpress": 1,
        "N8N is suspended": 1, "Ghost is suspended": 1, "Wordpress is suspended": 1,
    }
    receipts = [m for m in smtp.messages if m["Subject"].startswith("Receipt")]
    assert all(any(part.get_content_type() == "application/pdf" for part in m.walk()) for m in receipts)
    assert all(m["To"] == "ayu@example.co.id" for m in smtp.messages)
    await assert_ledger_consistent(app)
