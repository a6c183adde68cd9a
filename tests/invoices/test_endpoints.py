"""HTTP invoice endpoints: read, list with cursors, void; amounts as strings; 404s and 4xx on bad input."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from creditflow.invoices import service
from tests.factories import customer_id, expect_error, make_customer, ok, parse_time
from tests.invoices.support import draft, issued, line, tax, transaction


async def _list(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    return ok(await client.get("/v1/invoices", params=params))


async def test_an_invoice_reads_with_amounts_as_strings_at_the_currencys_scale(client, app, clock):
    customer = await make_customer(client, external_id="acme", name="Acme Inc", email="ap@acme.test")
    invoice = await issued(
        app, customer["id"], currency="EUR", lines=[line("Credits", "50.00"), line("Setup", "9.5")],
        taxes=[tax("VAT", "21")], metadata={"topup": "top_1"},
    )
    body = ok(await client.get(f"/v1/invoices/{invoice.id}"))
    assert body["object"] == "invoice"
    assert (body["id"], body["number"], body["status"]) == (invoice.id, "CF-2026-000001", "finalized")
    assert (body["customer"], body["currency"]) == (customer["id"], "EUR")
    assert body["lines"] == [{"description": "Credits", "amount": "50.00"}, {"description": "Setup", "amount": "9.50"}]
    assert body["tax_lines"] == [{"name": "VAT", "rate_percent": "21", "inclusive": False, "amount": "12.50"}]
    assert (body["subtotal"], body["tax"], body["total"]) == ("59.50", "12.50", "72.00")
    assert body["seller"] == {
        "name": "Creditflow Labs Ltd", "address": "1 Ledger Lane, Jakarta", "tax_id": "ID-01.234.567.8-901.000",
        "email": "billing@creditflow.test", "timezone": "Asia/Jakarta",
    }
    assert body["buyer"] == {"name": "Acme Inc", "email": "ap@acme.test", "external_id": "acme", "metadata": {}}
    assert body["metadata"] == {"topup": "top_1"}
    assert parse_time(body["finalized_at"]) == clock.now()
    assert (body["paid_at"], body["voided_at"], body["paid_via"], body["payment_reference"]) == (None,) * 4


async def test_zero_decimal_and_inclusive_amounts_read_exactly(client, app):
    customer = await customer_id(client)
    jpy = await draft(app, customer, currency="JPY", lines=[line("Credits", "1100")],
                      taxes=[tax("JCT", "10", inclusive=True)])
    body = ok(await client.get(f"/v1/invoices/{jpy.id}"))
    assert (body["subtotal"], body["tax"], body["total"]) == ("1000", "100", "1100")
    assert body["tax_lines"][0]["inclusive"] is True
    assert (body["number"], body["seller"], body["buyer"], body["finalized_at"]) == (None, None, None, None)
    idr = await draft(app, customer, currency="IDR", lines=[line("Paket", "111000")],
                      taxes=[tax("PPN", "11", inclusive=True)])
    body = ok(await client.get(f"/v1/invoices/{idr.id}"))
    assert (body["subtotal"], body["tax"], body["total"]) == ("100000.00", "11000.00", "111000.00")


async def test_list_is_newest_first_with_cursor_pages(client, app):
    customer = await customer_id(client)
    made = [(await draft(app, customer)).id for _ in range(5)]
    first = await _list(client, limit=2)
    assert (first["object"], first["has_more"]) == ("list", True)
    assert [i["id"] for i in first["data"]] == made[::-1][:2]
    second = await _list(client, limit=2, starting_after=first["data"][-1]["id"])
    assert [i["id"] for i in second["data"]] == made[::-1][2:4]
    last = await _list(client, limit=2, starting_after=second["data"][-1]["id"])
    assert ([i["id"] for i in last["data"]], last["has_more"]) == ([made[0]], False)


async def test_list_filters_by_customer_id_or_external_id(client, app):
    acme = await make_customer(client, external_id="acme")
    other = await customer_id(client)
    mine = await issued(app, acme["id"])
    await issued(app, other)
    for ref in (acme["id"], "acme"):
        assert [i["id"] for i in (await _list(client, customer=ref))["data"]] == [mine.id]
    assert len((await _list(client))["data"]) == 2


async def test_list_for_an_unknown_customer_is_404(client):
    expect_error(await client.get("/v1/invoices", params={"customer": "nobody"}), 404, "not_found")


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 101}, {"limit": "many"}])
async def test_list_with_a_bad_limit_is_422(client, params):
    expect_error(await client.get("/v1/invoices", params=params), 422, "validation_error")


@pytest.mark.parametrize("suffix", ["", "/pdf"])
async def test_reading_an_unknown_invoice_is_404(client, suffix):
    error = expect_error(await client.get(f"/v1/invoices/inv_nothing{suffix}"), 404, "not_found")
    assert "inv_nothing" in error["message"]


async def test_void_keeps_the_number_and_says_when(client, app, clock):
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    clock.advance(hours=1)
    body = ok(await client.post(f"/v1/invoices/{invoice.id}/void"))
    assert (body["status"], body["number"]) == ("void", "CF-2026-000001")
    assert parse_time(body["voided_at"]) == clock.now()
    assert ok(await client.get(f"/v1/invoices/{invoice.id}"))["status"] == "void"


async def test_void_of_a_draft_leaves_it_without_a_number(client, app):
    invoice = await draft(app, await customer_id(client))
    body = ok(await client.post(f"/v1/invoices/{invoice.id}/void"))
    assert (body["status"], body["number"]) == ("void", None)


async def test_void_of_a_paid_invoice_is_409_and_changes_nothing(client, app):
    invoice = await issued(app, await customer_id(client))
    async with transaction(app) as tx:
        await service.mark_paid(tx, invoice.id, via="balance")
    before = ok(await client.get(f"/v1/invoices/{invoice.id}"))
    error = expect_error(await client.post(f"/v1/invoices/{invoice.id}/void"), 409, "invoice_status_conflict")
    assert error["details"] == {"status": "paid"}
    assert ok(await client.get(f"/v1/invoices/{invoice.id}")) == before


async def test_void_twice_is_409_but_a_retry_with_the_same_key_replays(client, app):
    invoice = await issued(app, await customer_id(client))
    headers = {"Idempotency-Key": "void-1"}
    first = await client.post(f"/v1/invoices/{invoice.id}/void", headers=headers)
    replay = await client.post(f"/v1/invoices/{invoice.id}/void", headers=headers)
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    expect_error(await client.post(f"/v1/invoices/{invoice.id}/void"), 409, "invoice_status_conflict")


async def test_void_of_an_unknown_invoice_is_404(client):
    expect_error(await client.post("/v1/invoices/inv_nothing/void"), 404, "not_found")


@pytest.mark.parametrize(("method", "path"), [("GET", "/v1/invoices"), ("GET", "/v1/invoices/inv_1"),
                                              ("GET", "/v1/invoices/inv_1/pdf"), ("POST", "/v1/invoices/inv_1/void")])
async def test_every_invoice_endpoint_needs_an_operator_key(app, method, path):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        response = await anon.request(method, path)
    assert response.status_code == 401, response.text


async def test_openapi_documents_invoice_amounts_and_the_pdf(app):
    spec = app.openapi()
    operations = {
        (method, path): operation for path, item in spec["paths"].items() if path.startswith("/v1/invoices")
        for method, operation in item.items()
    }
    pdf = operations[("get", "/v1/invoices/{invoice_id}/pdf")]["responses"]["200"]["content"]
    assert list(pdf) == ["application/pdf"]
    schemas = spec["components"]["schemas"]
    for name, fields in (("InvoiceOut", ["subtotal", "tax", "total"]), ("LineOut", ["amount"]),
                         ("TaxLineOut", ["amount", "rate_percent"])):
        for field in fields:
            assert schemas[name]["properties"][field]["type"] == "string", (name, field)
