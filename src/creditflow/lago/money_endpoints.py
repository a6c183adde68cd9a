"""Lago's API under /api/v1: wallets, wallet transactions, events, invoices and the webhook key. Thin: parse,
call, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from creditflow.customers.service import get_customer
from creditflow.http.deps import SettingsDep, TxDep, require_operator
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Issuer
from creditflow.lago import events, views, wallets
from creditflow.lago import repository as lago_repository
from creditflow.lago.routing import LagoRoute
from creditflow.lago.schemas import (
    EstimateBody,
    EventBatchBody,
    EventBody,
    InvoiceBody,
    WalletBody,
    WalletTransactionBody,
)

router = APIRouter(prefix="/api/v1", tags=["lago"], route_class=LagoRoute, dependencies=[require_operator])

PageQuery = Annotated[int, Query(ge=1)]
PerPageQuery = Annotated[int, Query(ge=1, le=100)]


@router.post("/wallets")
async def create_wallet(body: WalletBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """Granted credits show at once; paid credits once their invoice is paid."""
    found = await wallets.create_wallet(tx, body.wallet, Issuer.from_settings(settings), settings)
    return {"wallet": wallets.render_wallet(found)}


@router.get("/wallets")
async def list_wallets(
    tx: TxDep, external_customer_id: str, page: PageQuery = 1, per_page: PerPageQuery = 100
) -> dict[str, Any]:
    found, total = await wallets.customer_wallets(tx, external_customer_id, page, per_page)
    return {"wallets": [wallets.render_wallet(w) for w in found], "meta": views.page_meta(page, per_page, total)}


@router.get("/wallets/{lago_id}")
async def find_wallet(lago_id: str, tx: TxDep) -> dict[str, Any]:
    """Balances read from the ledger now: the ongoing balance is exact after every event."""
    return {"wallet": wallets.render_wallet(await wallets.find_wallet(tx, lago_id))}


@router.delete("/wallets/{lago_id}")
async def terminate_wallet(lago_id: str, tx: TxDep) -> dict[str, Any]:
    return {"wallet": wallets.render_wallet(await wallets.terminate_wallet(tx, lago_id))}


@router.post("/wallet_transactions")
async def create_wallet_transactions(
    body: WalletTransactionBody, tx: TxDep, settings: SettingsDep
) -> dict[str, Any]:
    """Paid credits: a pending transaction and an invoice; granted credits: settled now. Send an Idempotency-Key
    to make a top-up safe to retry."""
    rows = await wallets.create_transactions(tx, body.wallet_transaction, Issuer.from_settings(settings), settings)
    currency = (await wallets.find_wallet(tx, body.wallet_transaction.wallet_id)).view.state.unit
    return {"wallet_transactions": [wallets.render_transaction(row, currency) for row in rows]}


@router.get("/wallets/{lago_id}/wallet_transactions")
async def list_wallet_transactions(
    lago_id: str, tx: TxDep, page: PageQuery = 1, per_page: PerPageQuery = 100
) -> dict[str, Any]:
    rows, total = await wallets.transactions(tx, lago_id, page, per_page)
    currency = (await wallets.find_wallet(tx, lago_id)).view.state.unit
    return {
        "wallet_transactions": [wallets.render_transaction(row, currency) for row in rows],
        "meta": views.page_meta(page, per_page, total),
    }


def _policy(settings: SettingsDep) -> events.EventPolicy:
    return events.EventPolicy(timedelta(hours=settings.events_late_window_hours), settings.lago_block_at_zero)


@router.post("/events")
async def create_event(body: EventBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """A duplicate transaction_id for the same subscription is a 422 value_already_exist, as in Lago."""
    (event,) = await events.record_events(tx, [body.event], _policy(settings), batch=False)
    return {"event": event}


@router.post("/events/batch")
async def create_events(body: EventBatchBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """Up to 100 events, all or nothing; errors keyed by index."""
    return {"events": await events.record_events(tx, body.events, _policy(settings), batch=True)}


@router.post("/events/estimate_fees")
async def estimate_fees(body: EstimateBody, tx: TxDep, settings: SettingsDep) -> dict[str, Any]:
    """What an event would cost now; nothing is recorded or charged."""
    return {"fees": await events.estimate_fees(tx, body.event, _policy(settings))}


@router.get("/events/{transaction_id}")
async def find_event(transaction_id: str, tx: TxDep) -> dict[str, Any]:
    return {"event": await events.find_event(tx, transaction_id)}


@router.get("/invoices")
async def list_invoices(
    tx: TxDep, request: Request, external_customer_id: str | None = None, page: PageQuery = 1,
    per_page: PerPageQuery = 100,
) -> dict[str, Any]:
    customer_id = (await get_customer(tx, external_customer_id)).id if external_customer_id else None
    ids, total = await lago_repository.invoice_ids(tx, customer_id, limit=per_page, offset=(page - 1) * per_page)
    shown = [await _invoice_view(tx, invoice_id, request) for invoice_id in ids]
    return {"invoices": shown, "meta": views.page_meta(page, per_page, total)}


@router.get("/invoices/{lago_id}")
async def find_invoice(lago_id: str, tx: TxDep, request: Request) -> dict[str, Any]:
    return {"invoice": await _invoice_view(tx, lago_id, request)}


@router.put("/invoices/{lago_id}")
async def update_invoice(lago_id: str, body: InvoiceBody, tx: TxDep, request: Request) -> dict[str, Any]:
    """payment_status succeeded credits a wallet top-up's credits, once."""
    await wallets.update_payment_status(tx, lago_id, body.invoice.payment_status)
    return {"invoice": await _invoice_view(tx, lago_id, request)}


@router.post("/invoices/{lago_id}/download")
async def download_invoice(lago_id: str, tx: TxDep, request: Request) -> dict[str, Any]:
    """The file_url is creditflow's own PDF of the invoice (GET /v1/invoices/{id}/pdf, operator key)."""
    return {"invoice": await _invoice_view(tx, lago_id, request)}


async def _invoice_view(tx: TxDep, lago_id: str, request: Request) -> dict[str, Any]:
    invoice = await invoices.get_invoice(tx, lago_id)
    row = await lago_repository.transaction_of_invoice(tx, lago_id)
    file_url = str(request.base_url).rstrip("/") + f"/v1/invoices/{invoice.id}/pdf" if invoice.number else None
    kind = "credit" if row is not None else "subscription" if "subscription_id" in invoice.metadata else "one_off"
    return views.invoice(invoice, kind, file_url, failed=row is not None and row.status == "failed")
