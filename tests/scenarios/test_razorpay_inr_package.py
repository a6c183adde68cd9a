"""Scenario: an Indian customer buys a credit package through Razorpay.

The "Pro" package sells 20,000 CREDITS for 2,000 INR and leaves the bonus to the INR tiers (>= 2,000: +20%).
GST 18% is added: the customer pays 2,360 INR. Razorpay sends payment.authorized, payment.captured and
order.paid for the one payment, out of order; the wallet gets 20,000 paid CREDITS (cost 2,000 INR) and a
separate promotional grant of 4,000 once, and the invoice shows the GST.
"""

from __future__ import annotations

from tests.factories import customer_id, ok
from tests.payments.fakes import razorpay_server
from tests.topups.fixtures import clock, clock_ref, fakes, gateway_client, settings
from tests.topups.support import assert_ledger_consistent, available, deliver, open_topup, outcomes, topup, topup_grants

__all__ = ["clock", "clock_ref", "fakes", "gateway_client", "settings"]


async def test_an_inr_package_through_razorpay_with_gst_and_a_bonus_tier(app, client, gateway_client, fakes) -> None:
    package = ok(await client.post("/v1/packages", json={
        "name": "Pro", "price": {"amount": "2000", "currency": "INR"}, "credits": "20000",
        "currency_of_credits": "CREDITS",
    }), 201)
    customer = await customer_id(client, currency="INR", name="Ravi Kumar")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)

    opened = await open_topup(client, customer, "razorpay", package=package["id"])
    assert (opened["subtotal"], opened["tax"], opened["total"]) == ("2000.00", "360.00", "2360.00")
    assert (opened["credits"], opened["bonus_credits"], opened["currency_of_credits"]) == ("20000", "4000", "CREDITS")
    assert (opened["checkout_url"], opened["publishable_key"]) == (None, razorpay_server.KEY_ID)
    order = fakes.razorpay.orders[opened["gateway_reference"]]
    assert (order["amount"], order["receipt"]) == (236000, opened["id"])

    authorized, captured, paid = fakes.razorpay.capture(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "razorpay", paid)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "razorpay", authorized)) == ["unchanged"]
    assert outcomes(await deliver(gateway_client, "razorpay", captured)) == ["duplicate"]
    assert outcomes(await deliver(gateway_client, "razorpay", paid)) == ["duplicate"]

    done = await topup(client, opened["id"])
    assert (done["status"], done["payment_method"]) == ("paid", "upi")
    assert await available(client, customer, "CREDITS") == "24000"
    assert await available(client, customer, "INR") == "0.00"
    assert await topup_grants(client, customer) == [("paid", "20000", "2000.00"), ("promotional", "4000", None)]
    invoice = ok(await client.get(f"/v1/invoices/{done['invoice']}"))
    assert invoice["lines"] == [{"description": "Pro: 20000 CREDITS + 4000 bonus", "amount": "2000.00"}]
    assert invoice["tax_lines"] == [{"name": "GST", "rate_percent": "18", "inclusive": False, "amount": "360.00"}]
    assert (invoice["status"], invoice["total"], invoice["paid_via"]) == ("paid", "2360.00", "razorpay")
    assert invoice["payment_reference"] == done["payment_id"]
    await assert_ledger_consistent(app)
