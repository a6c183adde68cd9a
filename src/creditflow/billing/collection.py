"""Collecting open invoices from the balance: a period-close invoice the balance could not cover stays
finalized with an amount due, and is collected first whenever money is there again (a top-up, the renewal
retry, or the job runner's pass over open invoices), oldest invoice first, drawing the wallet in its normal
order."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.db.tx import Tx
from creditflow.errors import WalletNotFound
from creditflow.ids import new_id
from creditflow.invoices import repository as invoice_repository
from creditflow.invoices import service as invoices
from creditflow.invoices.totals import from_minor, to_minor
from creditflow.ledger import repository as ledger
from creditflow.ledger.debits import draw_from_wallet
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.journal import Journal
from creditflow.wallets.lookup import resolve_wallet

ACTOR = "system:billing"


async def pay_from_balance(tx: Tx, invoice_id: str) -> int:
    """Draw what the wallet can give (in whole minor units) toward the invoice's amount due; returns micro-units
    drawn. The draw and the payment on the invoice are one operation of the caller's transaction."""
    invoice = await invoices.get_invoice(tx, invoice_id)
    due = from_minor(invoice.total - invoice.amount_paid, invoice.currency)
    try:
        ref = await resolve_wallet(tx, invoice.customer_id, invoice.currency)
    except WalletNotFound:
        return 0
    wallet = await lock_and_sweep(tx, ref.wallet_id)
    assert wallet is not None
    # Only whole minor units can be recorded on the invoice, so draw no fraction of one.
    step = from_minor(1, invoice.currency)
    amount = min(due, max(wallet.available, 0)) // step * step
    if amount <= 0:
        return 0
    operation_id = new_id("op")
    await ledger.insert_operation(
        tx, id=operation_id, kind="invoice_payment", unit=wallet.unit, amount=amount, customer_id=wallet.customer_id,
        wallet_id=wallet.id, reference_id=invoice.id, description=f"Invoice {invoice.number}",
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    await draw_from_wallet(tx, journal, wallet, amount, "invoice_payment")
    await journal.post()
    await invoices.record_payment(
        tx, invoice.id, to_minor(amount, invoice.currency, param="amount"), via="balance", reference=operation_id
    )
    return amount


async def collect_open_invoices(tx: Tx, customer_id: str) -> bool:
    """Pay the customer's open invoices from the balance, oldest first; whether none is left open."""
    for invoice_id in await invoice_repository.open_invoice_ids(tx, customer_id):
        await pay_from_balance(tx, invoice_id)
    return not await invoice_repository.open_invoice_ids(tx, customer_id)


async def collect_all(engine: AsyncEngine, clock: Clock) -> int:
    """The job runner's pass: try every customer with an open invoice; returns how many have none left."""
    async with engine.connect() as conn:
        customers = await invoice_repository.customers_with_open_invoices(Tx(conn=conn, now=clock.now(), actor=ACTOR))
        await conn.rollback()
    settled = 0
    for customer_id in customers:
        async with engine.begin() as conn:
            settled += await collect_open_invoices(Tx(conn=conn, now=clock.now(), actor=ACTOR), customer_id)
    return settled
