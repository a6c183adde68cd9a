"""invoices/pdf.py through GET /v1/invoices/{id}/pdf: a real PDF whose text carries the invoice as issued."""

from __future__ import annotations

import io

import httpx
from pypdf import PdfReader

from creditflow.invoices import service
from tests.factories import make_customer, ok
from tests.invoices.support import draft, issued, line, tax, transaction


async def _pdf(client: httpx.AsyncClient, invoice_id: str) -> tuple[httpx.Response, str]:
    response = await client.get(f"/v1/invoices/{invoice_id}/pdf")
    assert response.status_code == 200, response.text
    reader = PdfReader(io.BytesIO(response.content))
    return response, "\n".join(page.extract_text() for page in reader.pages)


async def test_the_pdf_carries_number_parties_lines_taxes_and_totals(client, app):
    customer = await make_customer(client, external_id="maju", name="PT Maju Jaya", email="ap@maju.test")
    invoice = await issued(
        app, customer["id"], currency="IDR", lines=[line("Paket 100k", "100000"), line("Paket 10k", "11000")],
        taxes=[tax("PPN", "11", inclusive=True)], description="Top-up through Midtrans",
    )
    response, text = await _pdf(client, invoice.id)
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'inline; filename="CF-2026-000001.pdf"'
    assert response.content.startswith(b"%PDF-")
    for expected in (
        "CF-2026-000001", "Date of issue 2026-01-01", "Creditflow Labs Ltd", "1 Ledger Lane, Jakarta",
        "Tax ID: ID-01.234.567.8-901.000", "billing@creditflow.test", "PT Maju Jaya", "ap@maju.test",
        "Customer: maju", "Paket 100k 100,000.00", "Paket 10k 11,000.00", "Subtotal 100,000.00",
        "PPN 11% (included) 11,000.00", "Total (IDR) 111,000.00", "Top-up through Midtrans",
    ):
        assert expected in text, expected


async def test_the_pdf_keeps_the_buyer_as_issued_after_the_customer_changes(client, app):
    customer = await make_customer(client, name="Acme Inc", email="ap@acme.test")
    invoice = await issued(app, customer["id"])
    ok(await client.patch(f"/v1/customers/{customer['id']}", json={"name": "Globex", "email": "x@globex.test"}))
    _, text = await _pdf(client, invoice.id)
    assert "Acme Inc" in text and "ap@acme.test" in text
    assert "Globex" not in text and "x@globex.test" not in text
    invoice_json = ok(await client.get(f"/v1/invoices/{invoice.id}"))
    assert (invoice_json["buyer"]["name"], invoice_json["buyer"]["email"]) == ("Acme Inc", "ap@acme.test")


async def test_exclusive_tax_and_zero_decimal_amounts_print_as_the_api_shows_them(client, app):
    customer = await make_customer(client, name="Tanaka KK")
    usd = await issued(app, customer["id"], lines=[line("Credits", "1234.50")], taxes=[tax("VAT", "20")])
    _, text = await _pdf(client, usd.id)
    assert "Subtotal 1,234.50" in text and "VAT 20% 246.90" in text and "Total (USD) 1,481.40" in text
    jpy = await issued(app, customer["id"], currency="JPY", lines=[line("Credits", "12000")])
    _, text = await _pdf(client, jpy.id)
    assert "Total (JPY) 12,000" in text and "12,000.00" not in text


async def test_paid_void_and_draft_invoices_say_so(client, app, clock):
    customer = await make_customer(client)
    paid = await issued(app, customer["id"])
    voided = await issued(app, customer["id"])
    waiting = await draft(app, customer["id"])
    clock.advance(days=2)
    async with transaction(app) as tx:
        await service.mark_paid(tx, paid.id, via="stripe", reference="pi_42")
        await service.void(tx, voided.id)
    _, text = await _pdf(client, paid.id)
    assert "PAID" in text and "Paid 2026-01-03 via stripe (pi_42)" in text
    _, text = await _pdf(client, voided.id)
    assert "VOID" in text and "CF-2026-000002" in text and "Voided 2026-01-03" in text
    response, text = await _pdf(client, waiting.id)
    assert "DRAFT" in text and "not issued yet" in text
    assert response.headers["content-disposition"] == f'inline; filename="{waiting.id}.pdf"'


async def test_names_beyond_the_pdf_fonts_print_as_question_marks_instead_of_failing(client, app):
    customer = await make_customer(client, name="Zürich — 東京 GmbH")
    invoice = await issued(app, customer["id"], lines=[line("Crédits €", "5.00")])
    _, text = await _pdf(client, invoice.id)
    assert "Zürich — ?? GmbH" in text
    assert "Crédits €" in text


async def test_many_and_long_lines_flow_onto_more_pages(client, app):
    customer = await make_customer(client)
    lines = [line(f"Usage line {n:03d} " + "tokens " * (n % 15), "1.00") for n in range(80)]
    lines.append(line("x" * 300, "1.00"))
    invoice = await issued(app, customer["id"], lines=lines)
    response, text = await _pdf(client, invoice.id)
    pages = len(PdfReader(io.BytesIO(response.content)).pages)
    assert pages > 1
    for page in range(1, pages + 1):
        assert f"Invoice CF-2026-000001 - page {page} of {pages}" in text
    for n in range(80):
        assert f"Usage line {n:03d}" in text
    assert "Total (USD) 81.00" in text
