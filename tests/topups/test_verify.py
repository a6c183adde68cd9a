"""POST /v1/topups/{id}/verify: Razorpay checkout.js's result, checked against the order stored here,
confirmed with Razorpay's API, and credited through the same path as the webhook (so once)."""

from __future__ import annotations

from tests.factories import customer_id, expect_error, ok
from tests.topups.support import available, deliver, open_topup, outcomes, topup_grants


async def paid_order(client, fakes) -> tuple[str, dict, str, list]:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="1000", currency="INR")
    notifications = fakes.razorpay.capture(opened["gateway_reference"])
    payment_id = notifications[1].json()["payload"]["payment"]["entity"]["id"]
    return customer, opened, payment_id, notifications


def checkout_result(fakes, order_id: str, payment_id: str, **overrides: str) -> dict:
    return {"razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
            "razorpay_signature": fakes.razorpay.checkout_signature(order_id, payment_id), **overrides}


async def test_a_verified_checkout_credits_once_and_the_webhooks_find_it_done(client, gateway_client, fakes) -> None:
    customer, opened, payment_id, notifications = await paid_order(client, fakes)
    body = checkout_result(fakes, opened["gateway_reference"], payment_id)
    verified = ok(await client.post(f"/v1/topups/{opened['id']}/verify", json=body))
    assert (verified["status"], verified["payment_id"]) == ("paid", payment_id)
    assert ok(await client.post(f"/v1/topups/{opened['id']}/verify", json=body))["status"] == "paid"
    assert [outcomes(await deliver(gateway_client, "razorpay", n)) for n in notifications] == [
        ["unchanged"], ["duplicate"], ["duplicate"]
    ]
    assert await available(client, customer, "INR") == "1150.00"
    assert len(await topup_grants(client, customer)) == 2


async def test_a_forged_signature_or_another_order_is_refused(client, fakes) -> None:
    customer, opened, payment_id, _ = await paid_order(client, fakes)
    order_id = opened["gateway_reference"]
    forged = checkout_result(fakes, order_id, payment_id, razorpay_signature="0" * 64)
    expect_error(await client.post(f"/v1/topups/{opened['id']}/verify", json=forged), 400, "invalid_signature")
    other_order = checkout_result(fakes, "order_someoneelses", payment_id)
    error = expect_error(await client.post(f"/v1/topups/{opened['id']}/verify", json=other_order), 422,
                         "invalid_request")
    assert error["param"] == "razorpay_order_id"
    assert await available(client, customer, "INR") == "0.00"


async def test_an_authorized_but_uncaptured_payment_stays_pending(client, fakes) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="1000", currency="INR")
    authorized = fakes.razorpay.authorize_only(opened["gateway_reference"])
    payment_id = authorized.json()["payload"]["payment"]["entity"]["id"]
    body = checkout_result(fakes, opened["gateway_reference"], payment_id)
    assert ok(await client.post(f"/v1/topups/{opened['id']}/verify", json=body))["status"] == "pending"
    assert await available(client, customer, "INR") == "0.00"


async def test_only_razorpay_top_ups_are_verified(client) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "sandbox", amount="1000", currency="INR")
    body = {"razorpay_order_id": opened["id"], "razorpay_payment_id": "pay_x", "razorpay_signature": "x"}
    expect_error(await client.post(f"/v1/topups/{opened['id']}/verify", json=body), 422, "invalid_request")
    expect_error(await client.post("/v1/topups/top_missing/verify", json=body), 404, "not_found")
