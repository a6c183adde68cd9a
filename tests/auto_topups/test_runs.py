"""The auto top-up job: a crossing below the threshold charges the saved card off-session once, at most
max_per_day times in 24 hours; a decline backs off and raises auto_topup.failed; with no card, a payment link
is emailed; an answer lost in transit is asked for again under the same key and charged once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from creditflow.auto_topups.runs import run_auto_topups
from creditflow.db.tables import email_outbox
from tests.auto_topups.support import attempts, carded_customer, events_of, set_auto_topup
from tests.factories import customer_id, debit, ok
from tests.topups.support import assert_ledger_consistent, available, deliver, sandbox_notification, topup
from tests.topups.test_jobs import job_context

INTENTS = ("POST", "/v1/payment_intents")


async def test_a_crossing_charges_the_saved_card_once(app, client, gateway_client, fakes) -> None:
    customer, card = await carded_customer(client, gateway_client, fakes)
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00", max_per_day=3)
    await app.state.jobs.run_once()
    assert await attempts(client, customer) == []  # 10.00 is above the threshold

    assert (await debit(client, customer, "6.00")).status_code == 201
    await app.state.jobs.run_once()
    await app.state.jobs.run_once()

    assert await available(client, customer, "USD") == "24.00"
    [attempt] = await attempts(client, customer)
    assert (attempt["kind"], attempt["status"], attempt["amount"], attempt["payment_method"]) == (
        "charge", "succeeded", "20.00", card["id"]
    )
    charged = await topup(client, attempt["topup"])
    assert (charged["status"], charged["total"], charged["saved_payment_method"]) == ("paid", "20.00", card["id"])
    [event] = await events_of(app, "auto_topup.succeeded")
    assert (event["attempt"], event["topup"], event["amount"], event["currency"]) == (
        attempt["id"], charged["id"], "20.00", "USD"
    )
    await assert_ledger_consistent(app)


async def test_target_balance_charges_what_brings_the_balance_back(app, client, gateway_client, fakes) -> None:
    customer, _ = await carded_customer(client, gateway_client, fakes, spend="6.50")
    await set_auto_topup(client, customer, threshold="5.00", target_balance="50.00")

    await app.state.jobs.run_once()

    [attempt] = await attempts(client, customer)
    assert (attempt["status"], attempt["amount"]) == ("succeeded", "46.50")
    assert await available(client, customer, "USD") == "50.00"


async def test_never_more_than_max_per_day(app, client, gateway_client, fakes, clock) -> None:
    customer, _ = await carded_customer(client, gateway_client, fakes)
    # 10.00 a time never gets above 100.00: each pass would charge again.
    await set_auto_topup(client, customer, threshold="100.00", amount="10.00", max_per_day=2)
    for _ in range(4):
        await app.state.jobs.run_once()
    assert [a["status"] for a in await attempts(client, customer)] == ["succeeded", "succeeded"]
    assert await available(client, customer, "USD") == "30.00"

    clock.advance(hours=24, seconds=1)
    await app.state.jobs.run_once()
    assert len(await attempts(client, customer)) == 3


async def test_a_decline_backs_off_and_raises_an_event(app, client, gateway_client, fakes, clock) -> None:
    customer, card = await carded_customer(client, gateway_client, fakes, spend="8.00")
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00", max_per_day=5)
    fakes.stripe.declining[card["gateway_method"]] = "card_declined"
    try:
        await app.state.jobs.run_once()
        [failed] = await attempts(client, customer)
        assert (failed["status"], failed["topup"] is not None) == ("failed", True)
        assert "declined" in failed["failure_reason"]
        assert (await topup(client, failed["topup"]))["status"] == "failed"
        state = ok(await client.get(f"/v1/customers/{customer}/wallets/USD/auto_topup"))
        assert state["failures"] == 1
        [event] = await events_of(app, "auto_topup.failed")
        assert (event["attempt"], event["retry_at"]) == (failed["id"], state["retry_at"].replace("+00:00", "Z"))

        await app.state.jobs.run_once()  # backing off: nothing new
        assert len(await attempts(client, customer)) == 1
        clock.advance(hours=1)
        await app.state.jobs.run_once()
        assert [a["status"] for a in await attempts(client, customer)] == ["failed", "failed"]
        assert ok(await client.get(f"/v1/customers/{customer}/wallets/USD/auto_topup"))["failures"] == 2
    finally:
        del fakes.stripe.declining[card["gateway_method"]]

    clock.advance(hours=1)
    await app.state.jobs.run_once()
    assert len(await attempts(client, customer)) == 2  # the second failure waits 2 hours
    clock.advance(hours=1)
    await app.state.jobs.run_once()
    assert [a["status"] for a in await attempts(client, customer)] == ["failed", "failed", "succeeded"]
    assert ok(await client.get(f"/v1/customers/{customer}/wallets/USD/auto_topup"))["failures"] == 0
    assert await available(client, customer, "USD") == "22.00"
    await assert_ledger_consistent(app)


async def test_a_lost_answer_is_asked_for_again_and_charged_once(app, client, gateway_client, fakes) -> None:
    customer, _ = await carded_customer(client, gateway_client, fakes, spend="8.00")
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00")
    intents = fakes.stripe.requests.count(INTENTS)
    fakes.stripe.lose_next_answer()  # the card is charged, the answer never arrives

    await app.state.jobs.run_once()
    [pending] = await attempts(client, customer)
    assert pending["status"] == "pending"
    assert await available(client, customer, "USD") == "2.00"

    await app.state.jobs.run_once()
    [done] = await attempts(client, customer)
    assert (done["id"], done["status"]) == (pending["id"], "succeeded")
    assert await available(client, customer, "USD") == "22.00"
    # Two requests under one idempotency key: Stripe made one PaymentIntent.
    assert fakes.stripe.requests.count(INTENTS) - intents == 2
    assert len({i["id"] for i in fakes.stripe.intents.values() if i["metadata"].get("topup_id") == done["topup"]}) == 1
    await assert_ledger_consistent(app)


async def test_two_runners_start_one_attempt(app, client, gateway_client, fakes) -> None:
    customer, _ = await carded_customer(client, gateway_client, fakes, spend="8.00")
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00", max_per_day=5)

    started = await asyncio.gather(run_auto_topups(job_context(app)), run_auto_topups(job_context(app)))

    assert sorted(started) == [0, 1]
    assert [a["status"] for a in await attempts(client, customer)] == ["succeeded"]
    assert await available(client, customer, "USD") == "22.00"


async def test_without_a_card_a_payment_link_is_emailed_once(app, client, fakes) -> None:
    customer = await customer_id(client, currency="USD", email="payer@example.com")
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00", link_gateway="sandbox")

    await app.state.jobs.run_once()
    await app.state.jobs.run_once()

    [attempt] = await attempts(client, customer)
    assert (attempt["kind"], attempt["status"], attempt["payment_method"]) == ("link", "pending", None)
    opened = await topup(client, attempt["topup"])
    async with app.state.engine.connect() as conn:
        mails = (await conn.execute(select(email_outbox).where(email_outbox.c.customer_id == customer))).all()
    assert [(m.kind, m.to_address) for m in mails] == [("auto_topup_link", "payer@example.com")]
    assert opened["checkout_url"] in mails[0].body

    await deliver(client, "sandbox", sandbox_notification(app, opened))
    await app.state.jobs.run_once()
    [attempt] = await attempts(client, customer)
    assert attempt["status"] == "succeeded"
    assert await available(client, customer, "USD") == "20.00"
    assert [e["kind"] for e in await events_of(app, "auto_topup.succeeded")] == ["link"]


async def test_no_way_to_pay_fails_and_backs_off(app, client, gateway_client, fakes) -> None:
    customer, card = await carded_customer(client, gateway_client, fakes, spend="8.00")
    await set_auto_topup(client, customer, threshold="5.00", amount="20.00")
    ok(await client.delete(f"/v1/customers/{customer}/payment_methods/{card['id']}"))

    await app.state.jobs.run_once()
    await app.state.jobs.run_once()

    [attempt] = await attempts(client, customer)
    assert (attempt["status"], attempt["topup"]) == ("failed", None)
    assert "no saved payment method" in attempt["failure_reason"]
    assert len(await events_of(app, "auto_topup.failed")) == 1
