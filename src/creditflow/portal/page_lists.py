"""Usage (a chart by day stacked by metric, and a table by metric), transactions and invoices."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from creditflow.errors import NotFound
from creditflow.invoices import service as invoices
from creditflow.ledger.history import list_operations
from creditflow.portal import views
from creditflow.portal.page_context import customer_page, render
from creditflow.portal.schemas import PortalTransaction, signed_amount

router = APIRouter(include_in_schema=False)
RANGES = (7, 30, 90)
PAGE_SIZE = 25


@router.get("/portal/usage")
async def usage(request: Request, days: int = 30) -> Response:
    days = days if days in RANGES else 30
    async with customer_page(request) as ctx:
        chart = await views.spend_chart(ctx.tx, ctx.customer, days)
        rows = await views.metric_rows(ctx.tx, ctx.customer, views.days_start(ctx.customer, days, ctx.tx.now))
        return render(
            ctx, "portal/usage.html", "usage", chart=chart.as_json(), has_usage=bool(chart.series), rows=rows,
            days=days, ranges=RANGES,
        )


@router.get("/portal/transactions")
async def transactions(request: Request, after: str | None = None) -> Response:
    async with customer_page(request) as ctx:
        found = await list_operations(ctx.tx, customer_id=ctx.customer.id, limit=PAGE_SIZE + 1, starting_after=after)
        shown = found[:PAGE_SIZE]
        rows = [(PortalTransaction.of(op), signed_amount(op), op) for op in shown]
        next_cursor = shown[-1].id if len(found) > PAGE_SIZE else None
        return render(ctx, "portal/transactions.html", "transactions", rows=rows, next_cursor=next_cursor)


@router.get("/portal/invoices")
async def invoice_list(request: Request, after: str | None = None) -> Response:
    async with customer_page(request) as ctx:
        found = await invoices.list_invoices(
            ctx.tx, customer_id=ctx.customer.id, limit=PAGE_SIZE + 1, starting_after=after
        )
        shown = [i for i in found[:PAGE_SIZE] if i.status != "draft"]
        next_cursor = found[PAGE_SIZE - 1].id if len(found) > PAGE_SIZE else None
        return render(ctx, "portal/invoices.html", "invoices", invoices=shown, next_cursor=next_cursor)


@router.get("/portal/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, invoice_id: str) -> Response:
    from creditflow.invoices.pdf import render_invoice  # fpdf2 is imported on the first PDF, not at start

    async with customer_page(request) as ctx:
        try:
            found = await invoices.get_invoice(ctx.tx, invoice_id)
        except NotFound:
            found = None
        # Another customer's invoice, or a draft, is answered exactly like one that does not exist.
        if found is None or found.customer_id != ctx.customer.id or found.status == "draft":
            return render(ctx, "portal/not_found.html", "invoices", status_code=404, what="invoice")
    return Response(
        render_invoice(found), media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{found.number or found.id}.pdf"'},
    )
