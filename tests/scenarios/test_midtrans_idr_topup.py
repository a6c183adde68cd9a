"""Scenario: an Indonesian customer tops up rupiah through Midtrans.

The operator runs the default rules: IDR top-ups from 10,000 to 10,000,000 with PPN 11% on top. Amounts
outside them, or in fractions of a rupiah (Midtrans charges whole rupiah), are refused before any order
exists. A 150,000 IDR top-up costs 166,500; the customer pays by bank transfer and Midtrans notifies out of
order and twice. The wallet gets 150,000 IDR once, with that cost basis, and a paid invoice shows the PPN.
"""

from __future__ import annotations

import io

from pypdf import PdfReader

from tests.factories import customer_id, expect_error, ok
from tests.topups.fixtures import clock, clock_ref, fakes, gateway_client, settings
from tests.topups.support import assert_ledger_consistent, available, deliver, open_topup, outcomes, topup, topup_grants

__all__ = ["clock", "clock_ref", "fakes", "gateway_client", "settings"]


async def test_an_idr_top_up_through_midtrans_with_limits_and_ppn(app, client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="IDR", name="Ayu Lestari", email="ayu@example.co.id")
    for amount, code, limit in (("5000", "topup_amount_out_of_range", "minimum"),
                                ("10000001", "topup_amount_out_of_range", "maximum"),
                                ("150000.50", "amount_not_supported_by_gateway", None)):
        refused = await client.post("/v1/topups", json={"customer": customer, "gateway": "midtrans",
                                                        "amount": amount, "currency": "IDR"})
        error = expect_error(refused, 422, code)
        assert error["param"] == "amount" and (limit is None or error["details"]["limit"] == limit)
    assert ok(await client.get("/v1/topups", params={"customer": customer}))["data"] == []

    opened = await open_topup(client, customer, "midtrans", amount="150000", currency="IDR")
    assert (opened["subtotal"], opened["tax"], opened["total"]) == ("150000.00", "16500.00", "166500.00")
    assert opened["tax_details"] == {"name": "PPN", "rate_percent": "11", "inclusive": False}
    snap = fakes.midtrans.snaps[opened["id"]]["body"]
    assert snap["transaction_details"] == {"order_id": opened["id"], "gross_amount": 166500}
    assert snap["customer_details"] == {"first_name": "Ayu", "last_name": "Lestari", "email": "ayu@example.co.id"}

    pending = fakes.midtrans.choose(opened["id"], "bank_transfer")
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    for late in (pending, settlement):
        assert outcomes(await deliver(gateway_client, "midtrans", late)) == ["duplicate"]

    paid = await topup(client, opened["id"])
    assert (paid["status"], paid["payment_method"]) == ("paid", "bank_transfer")
    assert await available(client, customer, "IDR") == "150000.00"
    assert await topup_grants(client, customer) == [("paid", "150000.00", "150000.00")]
    invoice = ok(await client.get(f"/v1/invoices/{paid['invoice']}"))
    assert (invoice["number"], invoice["status"], invoice["paid_via"]) == ("CF-2026-000001", "paid", "midtrans")
    assert invoice["lines"] == [{"description": "Credit top-up: 150000.00 IDR", "amount": "150000.00"}]
    assert invoice["tax_lines"] == [{"name": "PPN", "rate_percent": "11", "inclusive": False, "amount": "16500.00"}]
    assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("150000.00", "16500.00", "166500.00")
    pdf = await client.get(f"/v1/invoices/{paid['invoice']}/pdf")
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    for expected in ("CF-2026-000001", "Ayu Lestari", "PPN 11% 16,500.00", "Total (IDR) 166,500.00"):
        assert expected in text, expected
    await assert_ledger_consistent(app)
