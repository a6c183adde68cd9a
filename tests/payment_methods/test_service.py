"""Off-session charges of a saved card (POST .../payment_methods/{id}/charge, service.charge_saved): priced like
any top-up, credited exactly once whether the charge's answer or its webhook comes first, safe to retry under
its idempotency key; a decline fails the top-up and credits nothing."""

from __future__ import annotations

import pytest

from creditflow.errors import IdempotencyKeyReused
from creditflow.payment_methods import service
from tests.factories import customer_id, expect_error, ok
from tests.payment_methods.support import charge, listed, methods_url, save_card, topup_rows
from tests.topups.support import assert_ledger_consistent, available, deliver, outcomes, topup, topup_grants
from tests.topups.test_jobs import job_context

INTENTS = ("POST", "/v1/payment_intents")


async def _saved(client, gateway_client, fakes, currency: str = "USD") -> tuple[str, dict]:
    customer = await customer_id(client, currency=currency)
    card, _ = await save_card(client, gateway_client, fakes, customer)
    return customer, card


async def test_a_charge_credits_once_though_its_webhook_also_arrives(app, client, gateway_client, fakes) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    answer = ok(await charge(client, customer, card["id"], "auto-1", amount="25.00", currency="USD"), 201)
    charged = answer["topup"]
    assert (answer["object"], answer["outcome"], answer["payment_method"]) == (
        "payment_method_charge", "paid", card["id"]
    )
    intent = fakes.stripe.intents[charged["payment_id"]]
    assert intent["metadata"] == {"topup_id": charged["id"]}
    assert (intent["customer"], intent["payment_method"], intent["amount"]) == (
        card["gateway_customer"], card["gateway_method"], 2500
    )
    assert (charged["status"], charged["gateway"], charged["gateway_reference"], charged["saved_payment_method"]) == (
        "paid", "stripe", intent["id"], card["id"]
    )
    [webhook] = [n for n in fakes.stripe.outbox if n.json()["data"]["object"]["id"] == intent["id"]]
    assert outcomes(await deliver(gateway_client, "stripe", webhook)) == ["duplicate"]
    assert await available(client, customer, "USD") == "35.00"
    assert await topup_grants(client, customer) == [("paid", "10.00", "10.00"), ("paid", "25.00", "25.00")]
    assert (await topup(client, charged["id"]))["invoice"] is not None
    await assert_ledger_consistent(app)


async def test_the_webhook_first_then_a_retry_under_the_same_key_charges_nothing_more(
    app, client, gateway_client, fakes
) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    fakes.stripe.lose_next_answer()  # Stripe charges the card, but its answer never arrives
    lost = expect_error(await charge(client, customer, card["id"], "auto-2", amount="15.00", currency="USD"),
                        503, "gateway_unavailable")
    pending = await topup(client, lost["details"]["topup"])
    assert (pending["status"], pending["gateway_reference"]) == ("pending", None)
    intents = fakes.stripe.requests.count(INTENTS)
    assert outcomes(await deliver(gateway_client, "stripe", fakes.stripe.outbox[-1])) == ["credited"]
    again = ok(await charge(client, customer, card["id"], "auto-2", amount="15.00", currency="USD"), 201)
    assert (again["outcome"], again["topup"]["id"]) == ("paid", pending["id"])
    assert fakes.stripe.requests.count(INTENTS) == intents, "a settled charge is not sent again"
    assert await available(client, customer, "USD") == "25.00"
    await assert_ledger_consistent(app)


async def test_a_retry_of_an_unknown_outcome_sends_the_same_charge_which_stripe_makes_once(
    client, gateway_client, fakes
) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    fakes.stripe.lose_next_answer()
    lost = expect_error(await charge(client, customer, card["id"], "auto-3", amount="15.00", currency="USD"),
                        503, "gateway_unavailable")
    intents = len(fakes.stripe.intents)
    again = ok(await charge(client, customer, card["id"], "auto-3", amount="15.00", currency="USD"), 201)
    assert (again["outcome"], again["topup"]["id"]) == ("paid", lost["details"]["topup"])
    assert len(fakes.stripe.intents) == intents, "Stripe answered the retry with the first PaymentIntent"
    assert await available(client, customer, "USD") == "25.00"


async def test_a_declined_card_fails_the_top_up_and_credits_nothing(app, client, gateway_client, fakes) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    fakes.stripe.declining[card["gateway_method"]] = "insufficient_funds"
    error = expect_error(await charge(client, customer, card["id"], "auto-4", amount="15.00", currency="USD"),
                         402, "card_declined")
    failed = await topup(client, error["details"]["topup"])
    assert (failed["status"], failed["failure_reason"]) == ("failed", "stripe: insufficient_funds")
    assert error["details"]["reason"] == "stripe: insufficient_funds"
    assert failed["gateway_reference"] and failed["gateway_reference"].startswith("pi_")
    assert await available(client, customer, "USD") == "10.00"
    # The same key answers the same decline without trying the card again; a new key tries again.
    intents = fakes.stripe.requests.count(INTENTS)
    again = expect_error(await charge(client, customer, card["id"], "auto-4", amount="15.00", currency="USD"),
                         402, "card_declined")
    assert again["details"]["topup"] == failed["id"] and fakes.stripe.requests.count(INTENTS) == intents
    del fakes.stripe.declining[card["gateway_method"]]
    ok(await charge(client, customer, card["id"], "auto-5", amount="15.00", currency="USD"), 201)
    assert await available(client, customer, "USD") == "25.00"
    await assert_ledger_consistent(app)


async def test_a_card_that_needs_the_customer_stays_pending_until_it_expires(
    app, client, gateway_client, fakes, clock
) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    fakes.stripe.requiring_action.add(card["gateway_method"])
    answer = ok(await charge(client, customer, card["id"], "auto-6", amount="15.00", currency="USD"), 202)
    assert (answer["outcome"], answer["topup"]["status"]) == ("requires_action", "pending")
    intent_id = answer["topup"]["gateway_reference"]
    replay = await charge(client, customer, card["id"], "auto-6", amount="15.00", currency="USD")
    assert (replay.status_code, replay.headers.get("Idempotent-Replayed")) == (202, "true")
    # Asked again under its key (as auto top-up would), it is looked up at Stripe, not charged again.
    lookup = ("GET", f"/v1/payment_intents/{intent_id}")
    intents, lookups = len(fakes.stripe.intents), fakes.stripe.requests.count(lookup)
    again = await service.charge_saved(job_context(app), customer=customer, payment_method_id=card["id"],
                                       idempotency_key="auto-6", amount=15_000_000, currency="USD")
    assert (again.outcome, again.topup.id) == (service.REQUIRES_ACTION, answer["topup"]["id"])
    assert (len(fakes.stripe.intents), fakes.stripe.requests.count(lookup)) == (intents, lookups + 1)
    clock.advance(minutes=61)
    await app.state.jobs.run_once()
    assert fakes.stripe.intents[intent_id]["status"] == "canceled"
    assert (await topup(client, answer["topup"]["id"]))["status"] == "expired"
    assert await available(client, customer, "USD") == "10.00"


async def test_a_charge_is_priced_by_the_currency_rules(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="INR")
    opened = ok(await client.post("/v1/topups", json={"customer": customer, "gateway": "stripe", "amount": "500",
                                                      "currency": "INR", "save_payment_method": True}), 201)
    for event in fakes.stripe.pay(opened["gateway_reference"]):
        await deliver(gateway_client, "stripe", event)
    [card] = await listed(client, customer)
    charged = ok(await charge(client, customer, card["id"], "inr-1", amount="1000", currency="INR"), 201)["topup"]
    assert {k: charged[k] for k in ("subtotal", "tax", "total", "credits", "bonus_credits")} == {
        "subtotal": "1000.00", "tax": "180.00", "total": "1180.00", "credits": "1000.00", "bonus_credits": "150.00"
    }
    assert fakes.stripe.intents[charged["payment_id"]]["amount"] == 118000
    # 500 + 10% bonus from the checkout, then 1,000 + 15%.
    assert await available(client, customer, "INR") == "1700.00"
    too_little = await charge(client, customer, card["id"], "inr-2", amount="99", currency="INR")
    assert expect_error(too_little, 422, "topup_amount_out_of_range")["param"] == "amount"


async def test_a_package_can_be_charged(client, gateway_client, fakes) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    body = {"name": "Starter", "price": {"amount": "20", "currency": "USD"}, "credits": "25", "bonus_credits": "5"}
    package = ok(await client.post("/v1/packages", json=body), 201)
    charged = ok(await charge(client, customer, card["id"], "pkg-1", package=package["id"]), 201)["topup"]
    assert (charged["package"], charged["total"], charged["credits"], charged["bonus_credits"]) == (
        package["id"], "20.00", "25.00", "5.00"
    )
    assert await available(client, customer, "USD") == "40.00"


async def test_refusals_create_nothing(app, client, gateway_client, fakes) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    before, intents = await topup_rows(app, customer), fakes.stripe.requests.count(INTENTS)
    missing_key = await charge(client, customer, card["id"], None, amount="15.00", currency="USD")
    assert expect_error(missing_key, 422, "idempotency_key_required")["param"] == "Idempotency-Key"
    both = await charge(client, customer, card["id"], "bad-1", amount="15.00", currency="USD", package="pkg_x")
    expect_error(both, 422, "validation_error")
    ok(await client.delete(methods_url(customer, card["id"])))
    detached = await charge(client, customer, card["id"], "bad-2", amount="15.00", currency="USD")
    expect_error(detached, 409, "payment_method_detached")
    assert (await topup_rows(app, customer), fakes.stripe.requests.count(INTENTS)) == (before, intents)


async def test_the_service_refuses_a_key_used_for_another_charge(app, client, gateway_client, fakes) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    ctx = job_context(app)
    first = await service.charge_saved(ctx, customer=customer, payment_method_id=card["id"], idempotency_key="k-1",
                                       amount=15_000_000, currency="USD")
    assert (first.outcome, first.topup.status, first.topup.charge_key) == (service.PAID, "paid", "k-1")
    same = await service.charge_saved(ctx, customer=customer, payment_method_id=card["id"], idempotency_key="k-1",
                                      amount=15_000_000, currency="USD")
    assert (same.outcome, same.topup.id) == (service.PAID, first.topup.id)
    with pytest.raises(IdempotencyKeyReused):
        await service.charge_saved(ctx, customer=customer, payment_method_id=card["id"], idempotency_key="k-1",
                                   amount=16_000_000, currency="USD")
    assert await available(client, customer, "USD") == "25.00"


async def test_a_card_stripe_no_longer_has_fails_the_top_up_with_a_gateway_refusal(
    client, gateway_client, fakes
) -> None:
    customer, card = await _saved(client, gateway_client, fakes)
    fakes.stripe.saved_methods[card["gateway_customer"]].discard(card["gateway_method"])  # removed in Stripe
    error = expect_error(await charge(client, customer, card["id"], "gone-1", amount="15.00", currency="USD"),
                         502, "gateway_refused")
    failed = await topup(client, error["details"]["topup"])
    assert failed["status"] == "failed" and failed["failure_reason"].startswith("charge refused: ")
    assert await available(client, customer, "USD") == "10.00"
