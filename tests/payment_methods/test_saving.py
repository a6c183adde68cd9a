"""A Stripe checkout asked to save its card records it once it is paid: once however its events arrive, with the
card's details, the customer's first card as its default, every card on one Stripe customer; only Stripe saves."""

from __future__ import annotations

import pytest

from tests.factories import customer_id, expect_error, ok
from tests.payment_methods.support import listed, method_rows, save_card, topup_rows
from tests.topups.support import available, deliver, open_topup, outcomes
from tests.webhooks.support import events_of


async def test_a_paid_checkout_that_asked_saves_its_card_once(app, client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="10.00", currency="USD", save_payment_method=True)
    assert opened["save_payment_method"] is True and opened["saved_payment_method"] is None
    session = fakes.stripe.sessions[opened["gateway_reference"]]
    completed, succeeded = fakes.stripe.pay(session["id"])
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "stripe", succeeded)) == ["duplicate"]
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["duplicate"]  # a replay

    [method] = await listed(client, customer)
    intent = fakes.stripe.intents[session["payment_intent"]]
    assert method == {
        "object": "payment_method", "id": method["id"], "customer": customer, "gateway": "stripe",
        "gateway_customer": session["customer"], "gateway_method": intent["payment_method"],
        "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030}, "status": "active",
        "is_default": True, "created_at": method["created_at"], "detached_at": None,
    }
    assert method["id"].startswith("pm_") and method["id"] != intent["payment_method"]
    assert intent["payment_method"] in fakes.stripe.saved_methods[session["customer"]]
    assert (await method_rows(app, customer), await available(client, customer, "USD")) == (1, "10.00")
    assert ok(await client.get(f"/v1/topups/{opened['id']}"))["saved_payment_method"] == method["id"]
    [saved] = await events_of(client, "payment_method.saved")
    assert saved["data"]["payment_method"] | {"created_at": None} == {
        "id": method["id"], "customer": customer, "gateway": "stripe", "brand": "visa", "last4": "4242",
        "exp_month": 12, "exp_year": 2030, "status": "active", "is_default": True, "created_at": None,
        "detached_at": None,
    }


@pytest.mark.parametrize("only", ["checkout.session.completed", "payment_intent.succeeded"])
async def test_either_event_alone_saves_the_card(app, client, gateway_client, fakes, only: str) -> None:
    # Neither event shows the card: creditflow reads it from the PaymentIntent before storing the event.
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="10.00", currency="USD", save_payment_method=True)
    [event] = [e for e in fakes.stripe.pay(opened["gateway_reference"]) if e.json()["type"] == only]
    assert outcomes(await deliver(gateway_client, "stripe", event)) == ["credited"]
    [method] = await listed(client, customer)
    assert (method["card"]["last4"], method["is_default"]) == ("4242", True)


async def test_a_checkout_that_did_not_ask_saves_nothing(app, client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="10.00", currency="USD")
    assert "setup_future_usage" not in fakes.stripe._intent_data[opened["gateway_reference"]]
    for event in fakes.stripe.pay(opened["gateway_reference"]):
        await deliver(gateway_client, "stripe", event)
    assert (await listed(client, customer, include_detached="true"), await method_rows(app, customer)) == ([], 0)
    assert await available(client, customer, "USD") == "10.00"


async def test_every_card_of_a_customer_sits_on_one_stripe_customer(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    first, _ = await save_card(client, gateway_client, fakes, customer)
    second_order = await open_topup(client, customer, "stripe", amount="20.00", currency="USD",
                                    save_payment_method=True)
    session = fakes.stripe.sessions[second_order["gateway_reference"]]
    assert (session["customer"], session["customer_email"]) == (first["gateway_customer"], None)
    for event in fakes.stripe.pay(session["id"]):
        await deliver(gateway_client, "stripe", event)
    second, older = await listed(client, customer)
    assert older["id"] == first["id"] and second["id"] != first["id"]
    assert second["gateway_customer"] == first["gateway_customer"]
    assert (older["is_default"], second["is_default"]) == (True, False), "the first card stays the default"
    assert fakes.stripe.saved_methods[first["gateway_customer"]] == {first["gateway_method"], second["gateway_method"]}
    assert await available(client, customer, "USD") == "30.00"


@pytest.mark.parametrize(("gateway", "currency", "amount"),
                         [("sandbox", "USD", "10.00"), ("razorpay", "INR", "500"), ("midtrans", "IDR", "10000")])
async def test_only_stripe_saves_a_payment_method(app, client, gateway: str, currency: str, amount: str) -> None:
    customer = await customer_id(client, currency=currency)
    refused = await client.post("/v1/topups", json={"customer": customer, "gateway": gateway, "amount": amount,
                                                    "currency": currency, "save_payment_method": True})
    error = expect_error(refused, 422, "invalid_request")
    assert error["param"] == "save_payment_method" and gateway in error["message"]
    assert await topup_rows(app, customer) == 0


async def test_a_reconciled_payment_saves_its_card_too(app, client, fakes, clock) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="10.00", currency="USD", save_payment_method=True)
    fakes.stripe.pay(opened["gateway_reference"])  # its webhooks are lost
    clock.advance(minutes=16)
    await app.state.jobs.run_once()
    [method] = await listed(client, customer)
    assert (method["card"]["last4"], method["is_default"]) == ("4242", True)
    assert ok(await client.get(f"/v1/topups/{opened['id']}"))["saved_payment_method"] == method["id"]
    assert await available(client, customer, "USD") == "10.00"
