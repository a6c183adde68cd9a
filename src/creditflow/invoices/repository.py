"""Invoice queries: rows in and out, with their lines. Rules live in service.py."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from creditflow.db.pagination import newest_first
from creditflow.db.tables import invoice_lines, invoice_tax_lines, invoices
from creditflow.db.tx import Tx
from creditflow.invoices.models import FINALIZED, Buyer, Invoice, Line, Seller, TaxLine
from creditflow.invoices.totals import Totals, rate_text


def _invoice_from_row(row: Any) -> Invoice:
    seller = None
    if row.seller_timezone is not None:
        seller = Seller(
            name=row.seller_name, address=row.seller_address, tax_id=row.seller_tax_id, email=row.seller_email,
            timezone=row.seller_timezone,
        )
    buyer = None
    if row.buyer_external_id is not None:
        buyer = Buyer(
            name=row.buyer_name, email=row.buyer_email, external_id=row.buyer_external_id,
            metadata=row.buyer_metadata or {},
        )
    return Invoice(
        id=row.id, customer_id=row.customer_id, currency=row.currency, status=row.status, number=row.number,
        description=row.description, metadata=row.metadata, subtotal=row.subtotal, tax=row.tax, total=row.total,
        seller=seller, buyer=buyer, paid_via=row.paid_via, payment_reference=row.payment_reference,
        created_at=row.created_at, updated_at=row.updated_at, finalized_at=row.finalized_at, paid_at=row.paid_at,
        voided_at=row.voided_at, amount_paid=row.amount_paid, due_at=row.due_at, payment_overdue=row.payment_overdue,
    )


async def _with_lines(tx: Tx, found: list[Invoice]) -> list[Invoice]:
    if not found:
        return found
    ids = [invoice.id for invoice in found]
    lines: dict[str, list[Line]] = defaultdict(list)
    for row in await tx.conn.execute(
        select(invoice_lines).where(invoice_lines.c.invoice_id.in_(ids)).order_by(invoice_lines.c.seq)
    ):
        lines[row.invoice_id].append(Line(description=row.description, amount=row.amount))
    taxes: dict[str, list[TaxLine]] = defaultdict(list)
    for row in await tx.conn.execute(
        select(invoice_tax_lines).where(invoice_tax_lines.c.invoice_id.in_(ids)).order_by(invoice_tax_lines.c.seq)
    ):
        taxes[row.invoice_id].append(
            TaxLine(name=row.name, rate_percent=Decimal(row.rate_percent), inclusive=row.inclusive, amount=row.amount)
        )
    for invoice in found:
        invoice.lines, invoice.tax_lines = lines[invoice.id], taxes[invoice.id]
    return found


async def load_invoice(tx: Tx, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
    """One invoice with its lines; `for_update` locks its row on PostgreSQL (SQLite writers are serialized)."""
    query = select(invoices).where(invoices.c.id == invoice_id)
    if for_update:
        query = query.with_for_update()
    row = (await tx.conn.execute(query)).first()
    if row is None:
        return None
    (invoice,) = await _with_lines(tx, [_invoice_from_row(row)])
    return invoice


async def list_invoices(
    tx: Tx, *, customer_id: str | None, limit: int, starting_after: str | None
) -> list[Invoice]:
    query = newest_first(select(invoices), invoices.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(invoices.c.customer_id == customer_id)
    return await _with_lines(tx, [_invoice_from_row(row) for row in await tx.conn.execute(query)])


async def insert_invoice(
    tx: Tx, *, invoice_id: str, customer_id: str, currency: str, status: str, description: str | None,
    metadata: dict[str, Any],
) -> None:
    await tx.conn.execute(
        insert(invoices).values(
            id=invoice_id, customer_id=customer_id, currency=currency, status=status, description=description,
            metadata=metadata, subtotal=0, tax=0, total=0, created_at=tx.now, updated_at=tx.now,
        )
    )


async def add_payment(tx: Tx, invoice_id: str, amount: int) -> bool:
    """Add `amount` (minor units) to what a finalized invoice has collected, never past its total."""
    result = await tx.conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.status == FINALIZED,
               invoices.c.amount_paid + amount <= invoices.c.total)
        .values(amount_paid=invoices.c.amount_paid + amount, updated_at=tx.now)
    )
    return result.rowcount == 1


async def open_invoice_ids(tx: Tx, customer_id: str) -> list[str]:
    """The customer's finalized invoices with an amount still due, oldest first."""
    query = (
        select(invoices.c.id)
        .where(invoices.c.customer_id == customer_id, invoices.c.status == FINALIZED,
               invoices.c.amount_paid < invoices.c.total)
        .order_by(invoices.c.id)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def customers_with_open_invoices(tx: Tx) -> list[str]:
    query = select(invoices.c.customer_id).where(
        invoices.c.status == FINALIZED, invoices.c.amount_paid < invoices.c.total
    ).distinct()
    return list((await tx.conn.execute(query)).scalars().all())


async def append_lines(tx: Tx, invoice_id: str, lines: Sequence[Line]) -> None:
    if not lines:
        return
    last = (
        await tx.conn.execute(select(func.max(invoice_lines.c.seq)).where(invoice_lines.c.invoice_id == invoice_id))
    ).scalar()
    start = (last or 0) + 1
    await tx.conn.execute(
        insert(invoice_lines),
        [
            {"invoice_id": invoice_id, "seq": start + n, "description": line.description, "amount": line.amount}
            for n, line in enumerate(lines)
        ],
    )


async def replace_tax_lines(tx: Tx, invoice_id: str, tax_lines: Sequence[TaxLine]) -> None:
    await tx.conn.execute(delete(invoice_tax_lines).where(invoice_tax_lines.c.invoice_id == invoice_id))
    if tax_lines:
        await tx.conn.execute(
            insert(invoice_tax_lines),
            [
                {
                    "invoice_id": invoice_id, "seq": n, "name": tax.name, "rate_percent": rate_text(tax.rate_percent),
                    "inclusive": tax.inclusive, "amount": tax.amount,
                }
                for n, tax in enumerate(tax_lines, start=1)
            ],
        )


async def save_totals(tx: Tx, invoice_id: str, totals: Totals) -> None:
    await tx.conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id)
        .values(subtotal=totals.subtotal, tax=totals.tax, total=totals.total, updated_at=tx.now)
    )


async def save_finalized(
    tx: Tx, invoice_id: str, *, number: str, seller: Seller, buyer: Buyer, due_at: datetime | None
) -> None:
    await tx.conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id)
        .values(
            status=FINALIZED, number=number, finalized_at=tx.now, updated_at=tx.now, due_at=due_at,
            seller_name=seller.name, seller_address=seller.address, seller_tax_id=seller.tax_id,
            seller_email=seller.email, seller_timezone=seller.timezone,
            buyer_name=buyer.name, buyer_email=buyer.email, buyer_external_id=buyer.external_id,
            buyer_metadata=buyer.metadata,
        )
    )


async def move_status(tx: Tx, invoice_id: str, *, allowed: Sequence[str], values: dict[str, Any]) -> bool:
    """Change an invoice only if its status is still one of `allowed`: a conditional UPDATE, race-free."""
    result = await tx.conn.execute(
        update(invoices)
        .where(invoices.c.id == invoice_id, invoices.c.status.in_(allowed))
        .values(**values, updated_at=tx.now)
    )
    return result.rowcount == 1
