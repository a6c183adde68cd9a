"""Lago wallets and wallet transactions over creditflow wallets, grants and invoices.

A Lago wallet is the customer's creditflow wallet in one currency, seen in credits at `rate_amount`. Granted
credits are a promotional grant at once. Paid credits follow Lago: a pending wallet transaction and a
finalized invoice; the credits are granted once, the first time that invoice's payment_status becomes
succeeded (the transaction row moves from pending exactly once; any later change of the status is a 422).
The currency's top-up tax applies to that invoice; bonus tiers and top-up limits do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from creditflow import money
from creditflow.config import Settings
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import NotFound, WalletNotFound
from creditflow.ids import new_id
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Invoice, Issuer, LineInput, TaxInput
from creditflow.lago import repository, views
from creditflow.lago.convert import (
    amount,
    cents,
    credits_to_money,
    decimal_text,
    from_cents,
    invalid,
    iso,
    money_to_credits,
)
from creditflow.lago.routing import LagoError
from creditflow.lago.schemas import WalletIn, WalletTransactionIn
from creditflow.ledger.debits import remove_credits
from creditflow.ledger.grants import grant_credits
from creditflow.ledger.models import PAID, PROMOTIONAL
from creditflow.money import normalize_unit
from creditflow.wallets.lookup import resolve_wallet
from creditflow.wallets.service import WalletView, open_wallet, view_wallet
from creditflow.webhooks.outbox import emit

SOURCE = "lago"
DEFAULT_PRIORITY = 50


@dataclass(slots=True)
class LagoWallet:
    row: Any
    view: WalletView
    external_customer_id: str


async def create_wallet(tx: Tx, body: WalletIn, issuer: Issuer, settings: Settings) -> LagoWallet:
    if not body.external_customer_id:
        raise invalid("external_customer_id", "value_is_mandatory")
    owner = await get_customer(tx, body.external_customer_id)
    currency = normalize_unit(body.currency) if body.currency else owner.currency
    rate = amount(body.rate_amount if body.rate_amount is not None else "1", "rate_amount")
    if rate <= 0:
        raise invalid("rate_amount")
    priority = body.priority if body.priority is not None else DEFAULT_PRIORITY
    if not 1 <= priority <= 50:
        raise invalid("priority")
    expiration_at = _expiration(body.expiration_at)
    try:
        wallet_id = (await resolve_wallet(tx, owner.id, currency)).wallet_id
    except WalletNotFound:
        wallet_id = (await open_wallet(tx, owner.id, currency)).id
    if await repository.wallet_of(tx, wallet_id) is not None:
        raise invalid("customer", "wallet_already_exists")
    lago_id = new_id("lwl")
    await repository.insert_wallet(
        tx, id=lago_id, customer_id=owner.id, wallet_id=wallet_id, name=body.name, code=body.code,
        rate_amount=rate, priority=priority, expiration_at=expiration_at, status="active", terminated_at=None,
    )
    request = WalletTransactionIn(wallet_id=lago_id, paid_credits=body.paid_credits,
                                  granted_credits=body.granted_credits)
    await create_transactions(tx, request, issuer, settings)
    return await find_wallet(tx, lago_id)


def _expiration(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid("expiration_at", "invalid_date") from None


async def find_wallet(tx: Tx, lago_id: str) -> LagoWallet:
    row = await repository.load_wallet(tx, lago_id)
    if row is None:
        raise NotFound(f"no wallet '{lago_id}'", param="wallet")
    owner = await get_customer(tx, row.customer_id)
    return LagoWallet(row, await view_wallet(tx, row.wallet_id), owner.external_id)


async def customer_wallets(tx: Tx, external_customer_id: str, page: int, per_page: int) -> tuple[list[LagoWallet], int]:
    owner = await get_customer(tx, external_customer_id)
    rows, total = await repository.wallets_of_customer(tx, owner.id, limit=per_page, offset=(page - 1) * per_page)
    return [await find_wallet(tx, row.id) for row in rows], total


async def terminate_wallet(tx: Tx, lago_id: str) -> LagoWallet:
    """Lago's DELETE wallets/{id}: the wallet stops; its credits stay in the ledger."""
    await find_wallet(tx, lago_id)
    await repository.terminate_wallet(tx, lago_id)
    return await find_wallet(tx, lago_id)


async def create_transactions(tx: Tx, body: WalletTransactionIn, issuer: Issuer, settings: Settings) -> list[Any]:
    """Paid credits wait on an invoice; granted credits settle now. One transaction row each, paid first."""
    found = await find_wallet(tx, body.wallet_id)
    if found.row.status != "active":
        raise invalid("wallet_id", "wallet_is_terminated")
    rows = []
    paid = amount(body.paid_credits, "paid_credits") if body.paid_credits is not None else 0
    granted = amount(body.granted_credits, "granted_credits") if body.granted_credits is not None else 0
    voided = amount(body.voided_credits, "voided_credits") if body.voided_credits is not None else 0
    if paid > 0:
        rows.append(await _paid_transaction(tx, found, paid, issuer, settings))
    if granted > 0:
        rows.append(await _granted_transaction(tx, found, granted))
    if voided > 0:
        rows.append(await _voided_transaction(tx, found, voided))
    for row in rows:
        await emit(tx, "wallet_transaction.created",
                   {"wallet_transaction": render_transaction(row, found.view.state.unit)})
    return rows


async def _paid_transaction(tx: Tx, found: LagoWallet, credits: int, issuer: Issuer, settings: Settings) -> Any:
    row, currency = found.row, found.view.state.unit
    price = credits_to_money(credits, row.rate_amount, "paid_credits")
    rule = settings.topup_rules.get(currency)
    taxes = [TaxInput(rule.tax.name, rule.tax.rate, rule.tax.inclusive)] if rule and rule.tax else []
    lago_id = new_id("lwt")
    invoice = await invoices.create_draft(
        tx, customer=row.customer_id, currency=currency, lines=[LineInput("Prepaid credits", price)], taxes=taxes,
        description="Prepaid credits", metadata={"lago_wallet_transaction_id": lago_id},
    )
    await invoices.finalize(tx, invoice.id, issuer)
    await repository.insert_transaction(
        tx, id=lago_id, lago_wallet_id=row.id, status="pending", transaction_status="purchased",
        transaction_type="inbound", source="manual", credit_amount=credits, amount=price, invoice_id=invoice.id,
        grant_id=None, settled_at=None,
    )
    return await repository.load_transaction(tx, lago_id)


async def _granted_transaction(tx: Tx, found: LagoWallet, credits: int) -> Any:
    row = found.row
    price = credits_to_money(credits, row.rate_amount, "granted_credits")
    grant = await grant_credits(
        tx, customer=row.customer_id, amount=price, unit=found.view.state.unit, category=PROMOTIONAL,
        priority=row.priority, expires_at=row.expiration_at, source=SOURCE, description="Granted credits",
    )
    lago_id = new_id("lwt")
    await repository.insert_transaction(
        tx, id=lago_id, lago_wallet_id=row.id, status="settled", transaction_status="granted",
        transaction_type="inbound", source="manual", credit_amount=credits, amount=price, invoice_id=None,
        grant_id=grant.id, settled_at=tx.now,
    )
    return await repository.load_transaction(tx, lago_id)


async def _voided_transaction(tx: Tx, found: LagoWallet, credits: int) -> Any:
    """Lago's voided_credits: unheld credits leave the wallet (never more than it has: 402 otherwise)."""
    row = found.row
    price = credits_to_money(credits, row.rate_amount, "voided_credits")
    await remove_credits(tx, row.wallet_id, price, description="Voided credits", metadata={"lago_wallet_id": row.id})
    lago_id = new_id("lwt")
    await repository.insert_transaction(
        tx, id=lago_id, lago_wallet_id=row.id, status="settled", transaction_status="voided",
        transaction_type="outbound", source="manual", credit_amount=credits, amount=price, invoice_id=None,
        grant_id=None, settled_at=tx.now,
    )
    return await repository.load_transaction(tx, lago_id)


async def update_payment_status(tx: Tx, invoice_id: str, payment_status: str | None) -> Invoice:
    """Lago's PUT invoices/{id} {payment_status}: a wallet top-up's invoice credits its wallet once, when it
    first becomes succeeded; after that the status is final (422)."""
    if payment_status not in ("pending", "succeeded", "failed"):
        raise invalid("payment_status")
    invoice = await invoices.get_invoice(tx, invoice_id)
    row = await repository.transaction_of_invoice(tx, invoice_id)
    if row is None or row.status != "pending":
        if row is None and payment_status == "succeeded" and invoice.status == "finalized":
            return await invoices.mark_paid(tx, invoice_id, via=SOURCE)
        raise LagoError(422, "validation_errors", "the invoice's payment status is final",
                        {"payment_status": ["payment_status_is_final"]})
    if payment_status == "pending":
        return invoice
    if payment_status == "failed":
        await repository.settle_transaction(tx, row.id, "failed", None)
        await _announce_payment(tx, row.id, invoice, failed=True)
        return invoice
    wallet = await repository.load_wallet(tx, row.lago_wallet_id)
    paid = await invoices.mark_paid(tx, invoice_id, via=SOURCE, reference=row.id)
    grant = await grant_credits(
        tx, customer=wallet.customer_id, amount=row.amount, unit=invoice.currency, category=PAID,
        priority=wallet.priority, expires_at=wallet.expiration_at,
        cost_amount=from_cents(invoice.subtotal, invoice.currency), cost_unit=invoice.currency, source=SOURCE,
        description="Prepaid credits", metadata={"invoice_id": invoice_id},
    )
    if not await repository.settle_transaction(tx, row.id, "settled", grant.id):
        raise RuntimeError("a pending wallet transaction settled twice in one locked transaction")
    await _announce_payment(tx, row.id, paid, failed=False)
    return paid


async def _announce_payment(tx: Tx, transaction_id: str, invoice: Invoice, *, failed: bool) -> None:
    """Lago's webhooks for a top-up's payment: its transaction moved, its invoice's payment_status changed."""
    row = await repository.load_transaction(tx, transaction_id)
    await emit(tx, "wallet_transaction.updated", {"wallet_transaction": render_transaction(row, invoice.currency)})
    await emit(tx, "invoice.payment_status_updated",
               {"invoice": views.invoice(invoice, "credit", None, failed=failed)})


async def transactions(tx: Tx, lago_id: str, page: int, per_page: int) -> tuple[list[Any], int]:
    await find_wallet(tx, lago_id)
    return await repository.transactions_of_wallet(tx, lago_id, limit=per_page, offset=(page - 1) * per_page)


def render_wallet(found: LagoWallet) -> dict[str, Any]:
    row, state, debt = found.row, found.view.state, found.view.debt
    currency, rate = state.unit, row.rate_amount
    balance = state.posted - state.held
    ongoing = state.available - debt
    granted = sum(lot.amount for lot in found.view.lots)
    consumed = max(granted - sum(lot.remaining for lot in found.view.lots), 0)
    return {
        "lago_id": row.id, "lago_customer_id": row.customer_id, "external_customer_id": found.external_customer_id,
        "status": row.status, "currency": currency, "name": row.name, "code": row.code, "priority": row.priority,
        "rate_amount": decimal_text(rate),
        "credits_balance": money_to_credits(balance, rate), "balance_cents": cents(balance, currency),
        "consumed_credits": money_to_credits(consumed, rate), "consumed_amount_cents": cents(consumed, currency),
        "ongoing_balance_cents": cents(ongoing, currency), "credits_ongoing_balance": money_to_credits(ongoing, rate),
        "ongoing_usage_balance_cents": cents(debt, currency),
        "credits_ongoing_usage_balance": money_to_credits(debt, rate),
        "expiration_at": iso(row.expiration_at), "last_balance_sync_at": None, "last_consumed_credit_at": None,
        "terminated_at": iso(row.terminated_at), "invoice_requires_successful_payment": True,
        "recurring_transaction_rules": [], "metadata": None, "created_at": iso(row.created_at),
    }


def render_transaction(row: Any, currency: str) -> dict[str, Any]:
    return {
        "lago_id": row.id, "lago_wallet_id": row.lago_wallet_id, "lago_invoice_id": row.invoice_id,
        "lago_credit_note_id": None, "lago_voided_invoice_id": None, "status": row.status, "source": row.source,
        "transaction_status": row.transaction_status, "transaction_type": row.transaction_type,
        "amount": money.format(row.amount, currency), "credit_amount": decimal_text(row.credit_amount),
        "invoice_requires_successful_payment": row.transaction_status == "purchased", "metadata": [],
        "settled_at": iso(row.settled_at), "failed_at": iso(row.settled_at) if row.status == "failed" else None,
        "created_at": iso(row.created_at),
    }

