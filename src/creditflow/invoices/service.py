"""Invoice rules. Other domains call these inside their own transaction (Tx); nothing here commits.

Statuses only move forward: draft -> finalized -> paid, and draft | finalized -> void. A paid invoice
is never voided: it records money received, and undoing a payment is a refund (a new document that
points at the invoice), not a rewrite of the one the customer already holds. A draft is the only thing
that can be edited; finalizing takes its number and copies the seller and buyer details into it, so
later changes to either never reach an issued invoice.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from creditflow import money
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, InvoiceStatusConflict, NotFound
from creditflow.ids import new_id
from creditflow.invoices import repository
from creditflow.invoices.models import (
    DRAFT,
    FINALIZED,
    PAID,
    VOID,
    Buyer,
    Invoice,
    Issuer,
    Line,
    LineInput,
    TaxInput,
)
from creditflow.invoices.numbering import format_number, invoice_year, take_number
from creditflow.invoices.schemas import InvoiceOut
from creditflow.invoices.totals import compute_taxes, to_minor, totals_of
from creditflow.webhooks.outbox import emit

MAX_DESCRIPTION = 1000


def _lines(items: Sequence[LineInput], currency: str) -> list[Line]:
    lines = []
    for n, item in enumerate(items):
        description = item.description.strip()
        if not description or len(description) > MAX_DESCRIPTION:
            raise InvalidRequest(f"a line needs a description of 1 to {MAX_DESCRIPTION} characters",
                                 param=f"lines[{n}].description")
        lines.append(Line(description=description, amount=to_minor(item.amount, currency, param=f"lines[{n}].amount")))
    return lines


async def get_invoice(tx: Tx, invoice_id: str) -> Invoice:
    invoice = await repository.load_invoice(tx, invoice_id)
    if invoice is None:
        raise NotFound(f"no invoice '{invoice_id}'", param="invoice")
    return invoice


async def list_invoices(tx: Tx, *, customer_id: str | None, limit: int, starting_after: str | None) -> list[Invoice]:
    return await repository.list_invoices(tx, customer_id=customer_id, limit=limit, starting_after=starting_after)


async def _draft_for_update(tx: Tx, invoice_id: str, action: str) -> Invoice:
    invoice = await repository.load_invoice(tx, invoice_id, for_update=True)
    if invoice is None:
        raise NotFound(f"no invoice '{invoice_id}'", param="invoice")
    if invoice.status != DRAFT:
        raise InvoiceStatusConflict(
            f"invoice '{invoice_id}' is {invoice.status}; only a draft can {action}",
            details={"status": invoice.status},
        )
    return invoice


async def create_draft(
    tx: Tx,
    *,
    customer: str,
    currency: str,
    lines: Sequence[LineInput] = (),
    taxes: Sequence[TaxInput] = (),
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> Invoice:
    """A draft for `customer` (id or external_id) in `currency`, with its lines and, if given, taxes."""
    try:
        unit = money.normalize_unit(currency)
    except money.MoneyError as exc:
        raise InvalidRequest(str(exc), param="currency") from None
    owner = await get_customer(tx, customer)
    invoice_id = new_id("inv")
    await repository.insert_invoice(
        tx, invoice_id=invoice_id, customer_id=owner.id, currency=unit, status=DRAFT, description=description,
        metadata=metadata or {},
    )
    await add_lines(tx, invoice_id, lines)
    if taxes:
        await set_taxes(tx, invoice_id, taxes)
    return await get_invoice(tx, invoice_id)


async def add_lines(tx: Tx, invoice_id: str, lines: Sequence[LineInput]) -> Invoice:
    """Append lines (micro-units, each a whole number of the currency's minor units) to a draft."""
    invoice = await _draft_for_update(tx, invoice_id, "take new lines")
    if invoice.tax_lines and lines:
        # Its taxes were computed on the lines it had: adding more would leave them wrong.
        raise InvalidRequest("add every line before setting taxes", param="lines")
    added = _lines(lines, invoice.currency)
    if sum(line.amount for line in [*invoice.lines, *added]) < 0:
        raise InvalidRequest("the lines add up to less than zero", param="lines")
    await repository.append_lines(tx, invoice_id, added)
    await repository.save_totals(tx, invoice_id, totals_of([*invoice.lines, *added], []))
    return await get_invoice(tx, invoice_id)


async def set_taxes(tx: Tx, invoice_id: str, taxes: Sequence[TaxInput]) -> Invoice:
    """Replace a draft's tax lines, computed on its lines now (or recorded as given: a tax already charged)."""
    invoice = await _draft_for_update(tx, invoice_id, "change its taxes")
    tax_lines = compute_taxes(invoice.lines, taxes, invoice.currency)
    await repository.replace_tax_lines(tx, invoice_id, tax_lines)
    await repository.save_totals(tx, invoice_id, totals_of(invoice.lines, tax_lines))
    return await get_invoice(tx, invoice_id)


async def finalize(tx: Tx, invoice_id: str, issuer: Issuer) -> Invoice:
    """Issue a draft: take the next number of the year (seller's time zone), copy seller and buyer into it.

    The counter row stays locked until the caller's transaction ends, so finalize as late in it as you can.
    """
    invoice = await _draft_for_update(tx, invoice_id, "be finalized")
    if not invoice.lines:
        raise InvalidRequest("an invoice needs at least one line", param="lines")
    customer = await get_customer(tx, invoice.customer_id)
    buyer = Buyer(name=customer.name, email=customer.email, external_id=customer.external_id,
                  metadata=dict(customer.metadata))
    year = invoice_year(tx.now, issuer.seller.timezone)
    sequence = await take_number(tx, issuer.number_prefix, year)
    number = format_number(issuer.number_prefix, year, sequence)
    terms = customer.net_terms_days if customer.net_terms_days is not None else issuer.net_terms_days
    # Only an invoice with something to collect is due; one paid at once (mark_paid) has its due_at cleared.
    due_at = tx.now + timedelta(days=terms) if invoice.total > 0 else None
    await repository.save_finalized(tx, invoice_id, number=number, seller=issuer.seller, buyer=buyer, due_at=due_at)
    issued = await get_invoice(tx, invoice_id)
    # "created" means issued: a draft is a work in progress nobody outside has seen.
    await _announce(tx, "invoice.created", issued)
    return issued


async def _move(tx: Tx, invoice_id: str, *, allowed: Sequence[str], values: dict[str, Any], action: str) -> Invoice:
    if not await repository.move_status(tx, invoice_id, allowed=allowed, values=values):
        current = await get_invoice(tx, invoice_id)
        raise InvoiceStatusConflict(
            f"invoice '{invoice_id}' is {current.status}; only {' or '.join(allowed)} invoices can {action}",
            details={"status": current.status},
        )
    return await get_invoice(tx, invoice_id)


async def mark_paid(tx: Tx, invoice_id: str, *, via: str | None = None, reference: str | None = None) -> Invoice:
    """A finalized invoice was paid: `via` names how ('stripe', 'balance'), `reference` the payment's id there."""
    if via is not None and not 0 < len(via) <= 40:
        raise InvalidRequest("via is 1 to 40 characters", param="via")
    if reference is not None and not 0 < len(reference) <= 255:
        raise InvalidRequest("reference is 1 to 255 characters", param="reference")
    values = {"status": PAID, "paid_at": tx.now, "paid_via": via, "payment_reference": reference,
              "amount_paid": (await get_invoice(tx, invoice_id)).total, "due_at": None, "payment_overdue": False}
    paid = await _move(tx, invoice_id, allowed=(FINALIZED,), values=values, action="be marked paid")
    await _announce(tx, "invoice.paid", paid)
    return paid


async def record_payment(
    tx: Tx, invoice_id: str, amount: int, *, via: str, reference: str | None = None
) -> Invoice:
    """Collect `amount` (minor units) of a finalized invoice; the payment that completes it marks it paid."""
    invoice = await get_invoice(tx, invoice_id)
    if amount <= 0 or invoice.status != FINALIZED or invoice.amount_paid + amount > invoice.total:
        raise InvalidRequest(
            f"invoice '{invoice_id}' is {invoice.status} with {invoice.total - invoice.amount_paid} due",
            param="amount",
        )
    if invoice.amount_paid + amount == invoice.total:
        return await mark_paid(tx, invoice_id, via=via, reference=reference)
    await repository.add_payment(tx, invoice_id, amount)
    return await get_invoice(tx, invoice_id)


async def void(tx: Tx, invoice_id: str) -> Invoice:
    """Cancel a draft or an unpaid finalized invoice. A finalized one keeps its number: the sequence has no gap."""
    values = {"status": VOID, "voided_at": tx.now}
    voided = await _move(tx, invoice_id, allowed=(DRAFT, FINALIZED), values=values, action="be voided")
    if voided.number is not None:
        # Only an issued invoice was announced; a discarded draft never existed for the outside world.
        await _announce(tx, "invoice.voided", voided)
    return voided


async def _announce(tx: Tx, event_type: str, invoice: Invoice) -> None:
    """The invoice as the API shows it, to the webhook endpoints that want `event_type`."""
    await emit(tx, event_type, {"invoice": InvoiceOut.of(invoice).model_dump(mode="json")})
