"""The top-up jobs in the job runner: reconciliation through the status APIs, and expiry at the gateway
first (Midtrans, Stripe), then here; a payment that lands after expiry is still credited."""

from __future__ import annotations

from sqlalchemy import update

from creditflow.db.tables import topups
from creditflow.topups import jobs
from creditflow.topups.context import Context
from tests.factories import customer_id
from tests.topups.support import available, deliver, open_topup, outcomes, sandbox_notification, topup


def job_context(app) -> Context:
    state = app.state
    return Context(engine=state.engine, clock=state.clock, settings=state.settings, gateways=state.gateways,
                   actor=jobs.JOB_ACTOR)


async def test_a_payment_whose_webhook_never_came_is_reconciled(app, client, fakes, clock) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="1000", currency="INR")
    order = opened["gateway_reference"]
    fakes.razorpay.capture(order)  # the webhooks are lost
    reads = fakes.razorpay.requests.count(("GET", f"/v1/orders/{order}"))
    await app.state.jobs.run_once()
    assert fakes.razorpay.requests.count(("GET", f"/v1/orders/{order}")) == reads  # too young to ask about
    clock.advance(minutes=16)
    await app.state.jobs.run_once()
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "INR") == "1150.00"


async def test_a_pending_top_up_is_asked_about_once_per_interval(app, client, fakes, clock) -> None:
    customer = await customer_id(client, currency="INR")
    order = (await open_topup(client, customer, "razorpay", amount="1000", currency="INR"))["gateway_reference"]

    def reads() -> int:
        return fakes.razorpay.requests.count(("GET", f"/v1/orders/{order}"))

    before = reads()
    clock.advance(minutes=16)
    await app.state.jobs.run_once()
    assert reads() == before + 1
    clock.advance(minutes=5)
    await app.state.jobs.run_once()
    assert reads() == before + 1
    clock.advance(minutes=11)
    await app.state.jobs.run_once()
    assert reads() == before + 2


async def test_stripe_sessions_are_expired_at_stripe_then_here_and_a_late_payment_is_credited(
    app, client, gateway_client, fakes, clock
) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    clock.advance(minutes=61)
    await app.state.jobs.run_once()
    assert fakes.stripe.sessions[opened["gateway_reference"]]["status"] == "expired"
    assert (await topup(client, opened["id"]))["status"] == "expired"
    for event in fakes.stripe.pay(opened["gateway_reference"]):
        await deliver(gateway_client, "stripe", event)
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "USD") == "12.50"


async def test_a_session_paid_just_before_expiry_is_credited_by_the_expiry_job(app, client, fakes, clock) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    fakes.stripe.pay(opened["gateway_reference"])  # the webhooks are late
    clock.advance(minutes=61)
    assert await jobs.expire_unpaid(job_context(app)) == 1
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "USD") == "12.50"


async def test_midtrans_transactions_are_expired_at_midtrans(app, client, fakes, clock) -> None:
    customer = await customer_id(client, currency="IDR")
    chosen = await open_topup(client, customer, "midtrans", amount="100000", currency="IDR")
    fakes.midtrans.choose(chosen["id"])
    unchosen = await open_topup(client, customer, "midtrans", amount="100000", currency="IDR")
    clock.advance(minutes=61)
    await app.state.jobs.run_once()
    assert fakes.midtrans.transactions[chosen["id"]]["transaction_status"] == "expire"
    # No payment method was picked, so Midtrans has nothing to expire: only the local top-up expires.
    assert unchosen["id"] not in fakes.midtrans.transactions
    assert [(await topup(client, t["id"]))["status"] for t in (chosen, unchosen)] == ["expired", "expired"]


async def test_razorpay_orders_expire_here_and_a_late_capture_is_credited(
    app, client, gateway_client, fakes, clock
) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="1000", currency="INR")
    clock.advance(minutes=61)
    await app.state.jobs.run_once()
    assert (await topup(client, opened["id"]))["status"] == "expired"
    captured = fakes.razorpay.capture(opened["gateway_reference"])
    assert [outcomes(await deliver(gateway_client, "razorpay", n)) for n in captured] == [
        ["unchanged"], ["credited"], ["duplicate"]
    ]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "INR") == "1150.00"


async def test_a_sandbox_payment_after_expiry_is_credited(app, client, gateway_client, clock) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    clock.advance(minutes=61)
    await app.state.jobs.run_once()
    assert (await topup(client, opened["id"]))["status"] == "expired"
    assert outcomes(await deliver(gateway_client, "sandbox", sandbox_notification(app, opened))) == ["credited"]
    assert await available(client, customer, "USD") == "10.00"


async def test_a_top_up_whose_checkout_was_never_stored_expires_without_a_gateway_call(app, client, clock) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    async with app.state.engine.begin() as conn:  # as if the process died before storing the checkout
        await conn.execute(update(topups).where(topups.c.id == opened["id"]).values(gateway_reference=None))
    clock.advance(minutes=61)
    assert await jobs.expire_unpaid(job_context(app)) == 1
    assert (await topup(client, opened["id"]))["status"] == "expired"
