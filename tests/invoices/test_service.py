"""invoices/service.py: drafts, taxes, finalization with copied details, statuses that only move forward."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from creditflow.db.tables import invoices
from creditflow.errors import AmountNotInMinorUnits, InvalidRequest, InvoiceStatusConflict, NotFound
from creditflow.invoices import service
from creditflow.invoices.models import Issuer, Seller
from tests.factories import customer_id, make_customer, ok
from tests.invoices.support import ISSUER, SELLER, draft, issued, line, tax, transaction

# --- drafts -----------------------------------------------------------------------------------------


async def test_a_draft_has_lines_in_minor_units_and_no_number(client, app, clock):
    customer = await customer_id(client)
    invoice = await draft(
        app, customer, lines=[line("Starter pack", "10.00"), line("Bonus", "2.50")], description="Top-up",
        metadata={"topup": "top_1"},
    )
    assert invoice.id.startswith("inv_")
    assert (invoice.status, invoice.number, invoice.customer_id, invoice.currency) == ("draft", None, customer, "USD")
    assert [(x.description, x.amount) for x in invoice.lines] == [("Starter pack", 1000), ("Bonus", 250)]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (1250, 0, 1250)
    assert (invoice.seller, invoice.buyer, invoice.finalized_at) == (None, None, None)
    assert (invoice.description, invoice.metadata, invoice.created_at) == ("Top-up", {"topup": "top_1"}, clock.now())


async def test_a_draft_is_addressed_by_external_id_and_normalizes_the_currency(client, app):
    customer = await make_customer(client, external_id="acme")
    invoice = await draft(app, "acme", currency="idr", lines=[line("Credits", "100000")])
    assert (invoice.customer_id, invoice.currency, invoice.total) == (customer["id"], "IDR", 10_000_000)


async def test_a_draft_for_an_unknown_customer_is_not_found(client, app):
    with pytest.raises(NotFound):
        await draft(app, "nobody")


async def test_a_bad_currency_is_refused(client, app):
    customer = await customer_id(client)
    with pytest.raises(InvalidRequest) as raised:
        await draft(app, customer, currency="dollars!")
    assert raised.value.param == "currency"


async def test_an_amount_finer_than_a_cent_is_refused_and_nothing_is_written(client, app):
    customer = await customer_id(client)
    with pytest.raises(AmountNotInMinorUnits) as raised:
        await draft(app, customer, lines=[line("ok", "1.00"), line("too fine", "0.005")])
    assert raised.value.param == "lines[1].amount"
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(select(func.count()).select_from(invoices))).scalar_one() == 0


async def test_a_line_needs_a_description(client, app):
    customer = await customer_id(client)
    with pytest.raises(InvalidRequest) as raised:
        await draft(app, customer, lines=[line(" ", "1.00")])
    assert raised.value.param == "lines[0].description"


async def test_lines_are_appended_in_order(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, lines=[line("Plan", "20.00")])
    async with transaction(app) as tx:
        await service.add_lines(tx, invoice.id, [line("Seats", "5.00"), line("Discount", "-3.00")])
    async with transaction(app) as tx:
        invoice = await service.get_invoice(tx, invoice.id)
    assert [x.description for x in invoice.lines] == ["Plan", "Seats", "Discount"]
    assert invoice.total == 2200


async def test_lines_adding_up_below_zero_are_refused(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, lines=[line("Plan", "2.00")])
    with pytest.raises(InvalidRequest):
        async with transaction(app) as tx:
            await service.add_lines(tx, invoice.id, [line("Credit", "-3.00")])


async def test_exclusive_tax_is_added_to_the_total(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, currency="EUR", lines=[line("Credits", "50.00")], taxes=[tax("VAT", "21")])
    assert [(t.name, t.amount, t.inclusive) for t in invoice.tax_lines] == [("VAT", 1050, False)]
    assert (invoice.subtotal, invoice.tax, invoice.total) == (5000, 1050, 6050)


async def test_inclusive_tax_is_the_part_of_the_total_it_already_holds(client, app):
    customer = await customer_id(client)
    invoice = await draft(
        app, customer, currency="IDR", lines=[line("Paket 100k", "111000")], taxes=[tax("PPN", "11", inclusive=True)]
    )
    assert (invoice.subtotal, invoice.tax, invoice.total) == (10_000_000, 1_100_000, 11_100_000)


async def test_zero_decimal_currency_invoices_in_whole_yen(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, currency="JPY", lines=[line("Credits", "1100")],
                          taxes=[tax("JCT", "10", inclusive=True)])
    assert (invoice.subtotal, invoice.tax, invoice.total) == (1000, 100, 1100)
    with pytest.raises(AmountNotInMinorUnits):
        await draft(app, customer, currency="JPY", lines=[line("Credits", "1100.50")])


async def test_taxes_are_replaced_not_added_twice(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, taxes=[tax("VAT", "20")])
    async with transaction(app) as tx:
        invoice = await service.set_taxes(tx, invoice.id, [tax("GST", "18", amount="1.80")])
    assert [(t.name, t.amount) for t in invoice.tax_lines] == [("GST", 180)]
    assert invoice.total == 1180
    async with transaction(app) as tx:
        invoice = await service.set_taxes(tx, invoice.id, [])
    assert (invoice.tax_lines, invoice.total) == ([], 1000)


async def test_lines_cannot_be_added_after_taxes_were_computed_on_them(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, taxes=[tax("VAT", "20")])
    with pytest.raises(InvalidRequest, match="before setting taxes"):
        async with transaction(app) as tx:
            await service.add_lines(tx, invoice.id, [line("More", "1.00")])


# --- finalization -----------------------------------------------------------------------------------


async def test_finalizing_copies_seller_and_buyer_into_the_invoice(client, app, clock):
    customer = await make_customer(client, external_id="acme", name="Acme Inc", email="ap@acme.test",
                                   metadata={"vat": "DE123"})
    invoice = await issued(app, customer["id"])
    assert (invoice.status, invoice.number, invoice.finalized_at) == ("finalized", "CF-2026-000001", clock.now())
    assert invoice.seller == SELLER
    assert invoice.buyer is not None
    assert (invoice.buyer.name, invoice.buyer.email, invoice.buyer.external_id) == ("Acme Inc", "ap@acme.test", "acme")
    assert invoice.buyer.metadata == {"vat": "DE123"}


async def test_later_changes_to_customer_or_seller_never_rewrite_an_issued_invoice(client, app):
    customer = await make_customer(client, name="Acme Inc", email="ap@acme.test")
    invoice = await issued(app, customer["id"])
    ok(await client.patch(f"/v1/customers/{customer['id']}",
                          json={"name": "Acme Renamed", "email": "new@acme.test", "metadata": {"x": "y"}}))
    renamed_seller = Issuer(seller=Seller("New Name", None, None, None, "UTC"), number_prefix="CF")
    await issued(app, customer["id"], issuer=renamed_seller)
    async with transaction(app) as tx:
        again = await service.get_invoice(tx, invoice.id)
    assert again.buyer == invoice.buyer
    assert again.seller == SELLER


async def test_an_empty_draft_cannot_be_finalized(client, app):
    customer = await customer_id(client)
    invoice = await draft(app, customer, lines=[])
    with pytest.raises(InvalidRequest, match="at least one line"):
        async with transaction(app) as tx:
            await service.finalize(tx, invoice.id, ISSUER)


async def test_a_finalized_invoice_is_no_longer_editable(client, app):
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    for change in (
        lambda tx: service.finalize(tx, invoice.id, ISSUER),
        lambda tx: service.add_lines(tx, invoice.id, [line("More", "1.00")]),
        lambda tx: service.set_taxes(tx, invoice.id, [tax("VAT", "20")]),
    ):
        with pytest.raises(InvoiceStatusConflict) as raised:
            async with transaction(app) as tx:
                await change(tx)
        assert raised.value.details == {"status": "finalized"}


async def test_finalizing_an_unknown_invoice_is_not_found(client, app):
    with pytest.raises(NotFound):
        async with transaction(app) as tx:
            await service.finalize(tx, "inv_nothing", ISSUER)


# --- paid and void ------------------------------------------------------------------------------------


async def test_a_finalized_invoice_is_marked_paid_with_how_it_was_paid(client, app, clock):
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    clock.advance(minutes=5)
    async with transaction(app) as tx:
        paid = await service.mark_paid(tx, invoice.id, via="stripe", reference="pi_123")
    assert (paid.status, paid.paid_at, paid.paid_via, paid.payment_reference) == (
        "paid", clock.now(), "stripe", "pi_123"
    )
    assert paid.number == invoice.number


async def test_only_a_finalized_invoice_can_be_marked_paid(client, app):
    customer = await customer_id(client)
    waiting = await draft(app, customer)
    paid = await issued(app, customer)
    async with transaction(app) as tx:
        await service.mark_paid(tx, paid.id)
    for invoice_id, status in ((waiting.id, "draft"), (paid.id, "paid")):
        with pytest.raises(InvoiceStatusConflict) as raised:
            async with transaction(app) as tx:
                await service.mark_paid(tx, invoice_id)
        assert raised.value.details == {"status": status}


async def test_payment_details_are_bounded(client, app):
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    with pytest.raises(InvalidRequest):
        async with transaction(app) as tx:
            await service.mark_paid(tx, invoice.id, via="x" * 41)


async def test_a_draft_or_finalized_invoice_can_be_voided(client, app, clock):
    customer = await customer_id(client)
    waiting = await draft(app, customer)
    unpaid = await issued(app, customer)
    clock.advance(days=1)
    async with transaction(app) as tx:
        voided_draft = await service.void(tx, waiting.id)
        voided = await service.void(tx, unpaid.id)
    assert (voided_draft.status, voided_draft.number, voided_draft.voided_at) == ("void", None, clock.now())
    assert (voided.status, voided.number) == ("void", "CF-2026-000001")
    assert voided.finalized_at == clock.now() - timedelta(days=1)


async def test_a_paid_or_void_invoice_cannot_be_voided_or_finalized(client, app):
    customer = await customer_id(client)
    paid = await issued(app, customer)
    voided = await issued(app, customer)
    async with transaction(app) as tx:
        await service.mark_paid(tx, paid.id)
        await service.void(tx, voided.id)
    for invoice_id, status in ((paid.id, "paid"), (voided.id, "void")):
        for change in (service.void, lambda tx, i: service.finalize(tx, i, ISSUER)):
            with pytest.raises(InvoiceStatusConflict) as raised:
                async with transaction(app) as tx:
                    await change(tx, invoice_id)
            assert raised.value.details == {"status": status}
    async with transaction(app) as tx:
        with pytest.raises(InvoiceStatusConflict):
            await service.mark_paid(tx, voided.id)


async def test_changing_an_unknown_invoice_is_not_found(client, app):
    for change in (service.void, service.mark_paid, service.get_invoice):
        with pytest.raises(NotFound):
            async with transaction(app) as tx:
                await change(tx, "inv_nothing")
