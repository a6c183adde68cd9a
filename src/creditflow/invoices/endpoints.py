"""Invoice endpoints: read, list, the PDF, and void. Invoices are created by the domains that bill
(top-ups, subscriptions) through invoices/service.py, inside their own transactions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from creditflow.customers.service import get_customer
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.invoices import service
from creditflow.invoices.schemas import InvoiceOut

router = APIRouter(
    prefix="/v1/invoices", tags=["invoices"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.get("", response_model=Page[InvoiceOut])
async def list_invoices(
    tx: TxDep, page: PageDep, customer: Annotated[str | None, Query(description="Id or external_id.")] = None
) -> Page[InvoiceOut]:
    """Invoices newest first, drafts included."""
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await service.list_invoices(
        tx, customer_id=customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([InvoiceOut.of(invoice) for invoice in found], page.limit)


@router.get("/{invoice_id}", response_model=InvoiceOut)
async def get_invoice(invoice_id: str, tx: TxDep) -> InvoiceOut:
    return InvoiceOut.of(await service.get_invoice(tx, invoice_id))


@router.get(
    "/{invoice_id}/pdf", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The invoice as a PDF document."}},
)
async def get_invoice_pdf(invoice_id: str, tx: TxDep) -> Response:
    """The invoice as issued: seller, buyer, lines and totals as they were when it was finalized."""
    from creditflow.invoices.pdf import render_invoice  # fpdf2 is imported on the first PDF, not at start

    invoice = await service.get_invoice(tx, invoice_id)
    filename = f"{invoice.number or invoice.id}.pdf"
    return Response(
        render_invoice(invoice), media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{filename}"'},
    )


@router.post("/{invoice_id}/void", response_model=InvoiceOut)
async def void_invoice(invoice_id: str, tx: TxDep) -> InvoiceOut:
    """Cancel a draft or an unpaid finalized invoice; it keeps its number. A paid invoice gets 409."""
    return InvoiceOut.of(await service.void(tx, invoice_id))
