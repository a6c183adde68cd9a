"""GET /v1/exports/{customers|transactions|invoices|topups|events}.csv: the API's lists as CSV, whole, streamed.

Each export reads its list a page at a time through the list endpoint itself (same filters, same fields,
newest first), so the CSV is the list. The first page is read in the request's transaction, so a bad filter
is a 4xx before anything is sent; every further page in a short read of its own, after the cursor (keyset
pagination): memory stays constant however long the list is, and no connection is held while the client
reads. Rows created during an export are newer than its cursor and are not in it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from creditflow.customers.endpoints import list_customers
from creditflow.customers.schemas import CustomerOut
from creditflow.db.tx import Tx
from creditflow.exports.csv_format import CsvWriter
from creditflow.http.deps import PageParams, TxDep, require_operator
from creditflow.http.schemas import Page
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.invoices.endpoints import list_invoices
from creditflow.invoices.schemas import InvoiceOut
from creditflow.metering.endpoints import list_events_endpoint
from creditflow.metering.schemas import EventOut
from creditflow.topups.endpoints import list_topups
from creditflow.topups.schemas import TopupOut, TopupStatus
from creditflow.transactions.endpoints import list_transactions
from creditflow.transactions.schemas import TransactionOut

router = APIRouter(prefix="/v1/exports", tags=["exports"], route_class=UnitOfWorkRoute,
                   dependencies=[require_operator])

PAGE_SIZE = 500
Reader = Callable[[Tx, PageParams], Awaitable[Page[Any]]]
Customer = Annotated[str | None, Query(description="Id or external_id, as on the list.")]
_CSV = {200: {"content": {"text/csv": {}}, "description": "The list as CSV, a header row first."}}


async def _export(request: Request, tx: Tx, name: str, model: type[BaseModel], read: Reader) -> StreamingResponse:
    state = request.app.state
    first = await read(tx, PageParams(limit=PAGE_SIZE))
    writer = CsvWriter(model)

    async def chunks() -> AsyncIterator[str]:
        yield writer.header()
        page = first
        while True:
            yield writer.rows(page.data)
            if not page.has_more:
                return
            async with state.engine.connect() as conn:
                reader_tx = Tx(conn=conn, now=state.clock.now(), actor=tx.actor)
                page = await read(reader_tx, PageParams(limit=PAGE_SIZE, starting_after=page.data[-1].id))

    return StreamingResponse(chunks(), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@router.get("/customers.csv", response_class=StreamingResponse, responses=_CSV)
async def export_customers(request: Request, tx: TxDep) -> StreamingResponse:
    """Every customer, as GET /v1/customers."""
    return await _export(request, tx, "customers", CustomerOut, lambda t, p: list_customers(tx=t, page=p))


@router.get("/transactions.csv", response_class=StreamingResponse, responses=_CSV)
async def export_transactions(request: Request, tx: TxDep, customer: Customer = None) -> StreamingResponse:
    """As GET /v1/transactions; each operation's transfers in one JSON cell."""
    return await _export(request, tx, "transactions", TransactionOut,
                         lambda t, p: list_transactions(tx=t, page=p, customer=customer))


@router.get("/invoices.csv", response_class=StreamingResponse, responses=_CSV)
async def export_invoices(request: Request, tx: TxDep, customer: Customer = None) -> StreamingResponse:
    """As GET /v1/invoices; lines and tax lines as JSON cells."""
    return await _export(request, tx, "invoices", InvoiceOut,
                         lambda t, p: list_invoices(tx=t, page=p, customer=customer))


@router.get("/topups.csv", response_class=StreamingResponse, responses=_CSV)
async def export_topups(
    request: Request, tx: TxDep, customer: Customer = None, status: Annotated[TopupStatus | None, Query()] = None
) -> StreamingResponse:
    """As GET /v1/topups."""
    return await _export(request, tx, "topups", TopupOut,
                         lambda t, p: list_topups(tx=t, page=p, customer=customer, status=status))


@router.get("/events.csv", response_class=StreamingResponse, responses=_CSV)
async def export_events(
    request: Request, tx: TxDep, customer: Customer = None, metric: Annotated[str | None, Query()] = None
) -> StreamingResponse:
    """As GET /v1/events."""
    return await _export(request, tx, "events", EventOut,
                         lambda t, p: list_events_endpoint(tx=t, page=p, customer=customer, metric=metric))
