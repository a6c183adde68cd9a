"""GET /v1/customers/{customer}/statements/{month}: the customer's monthly statement as JSON."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Response

from creditflow.customers.service import get_customer
from creditflow.http.deps import SettingsDep, TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.statements.schemas import StatementOut
from creditflow.statements.service import monthly_statement

router = APIRouter(
    prefix="/v1/customers/{customer}/statements", tags=["statements"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.get("/{month}", response_model=StatementOut, responses={409: {"description": "statement_not_ready"}})
async def get_statement(customer: str, month: str, tx: TxDep, settings: SettingsDep) -> StatementOut:
    """`month` is YYYY-MM in the customer's time zone. Per wallet: opening balance, the month's movements by
    category, closing balance (opening + movements = closing, exactly); and the usage by metric. Available once
    the month and CREDITFLOW_EVENTS_LATE_WINDOW_HOURS after it are over (409 statement_not_ready before)."""
    statement = await monthly_statement(
        tx, customer, month, late_window=timedelta(hours=settings.events_late_window_hours)
    )
    return StatementOut.of(statement)


@router.get(
    "/{month}/pdf", response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The statement as a PDF document."},
               409: {"description": "statement_not_ready"}},
)
async def get_statement_pdf(customer: str, month: str, tx: TxDep, settings: SettingsDep) -> Response:
    """The same statement as a PDF."""
    from creditflow.statements.pdf import render_statement  # fpdf2 is imported on the first PDF, not at start

    statement = await monthly_statement(
        tx, customer, month, late_window=timedelta(hours=settings.events_late_window_hours)
    )
    owner = await get_customer(tx, statement.customer_id)
    return Response(
        render_statement(statement, owner.name or owner.external_id), media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="statement-{owner.external_id}-{month}.pdf"'},
    )
