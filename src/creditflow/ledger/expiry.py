"""Expiry: holds past expires_at release what they reserve; lots past expires_at go to breakage.

Applied lazily by every transaction that touches a wallet (before availability is computed), and by
the periodic sweep for idle wallets. Both are idempotent: only active rows are acted on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from creditflow.budgets import guard as budget_guard
from creditflow.db.tables import accounts, credit_grants, holds
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import HeldAllocation, WalletState, system_account_id
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text

EXPIRY_ACTOR = "system:expiry"


async def release_reservations(
    tx: Tx,
    journal: Journal,
    hold_id: str,
    allocations: list[HeldAllocation] | None = None,
    *,
    reserves_budget: bool = True,
) -> int:
    """Release what a hold still reserves. A released part of an ended lot goes to breakage.

    `allocations` (as repository.held_allocations reads them) when the caller has just read them, and
    `reserves_budget=False` when it knows the hold reserves no budget: each saves a query.
    Returns the amount sent to breakage.
    """
    if reserves_budget:
        await budget_guard.release_for_hold(tx, hold_id)
    if allocations is None:
        allocations = await repository.held_allocations(tx, hold_id)
    breakage = release_rest(journal, allocations)
    await repository.reduce_allocations(tx, hold_id, {a.seq: a.remaining for a in allocations})
    return breakage


def release_rest(journal: Journal, allocations: list[HeldAllocation]) -> int:
    """Journal the release of every allocation's `remaining`, an ended lot's part to breakage; returns the
    breakage. Writes nothing: the caller reduces the allocation rows."""
    breakage = 0
    for allocation in allocations:
        if not allocation.remaining:
            continue
        journal.release(allocation.account_id, allocation.remaining)
        if allocation.ended:
            journal.transfer(
                allocation.account_id, system_account_id("breakage", journal.unit), allocation.remaining, "breakage"
            )
            breakage += allocation.remaining
    return breakage


async def sweep_wallet(tx: Tx, wallet: WalletState) -> WalletState:
    """Expire the wallet's due holds and lots; the wallet must be locked by the caller."""
    if wallet.next_expiry_at is None or wallet.next_expiry_at > tx.now:
        return wallet
    due_holds = (
        await tx.conn.execute(
            select(
                holds.c.id, holds.c.customer_id, holds.c.amount, holds.c.captured, holds.c.expires_at,
                holds.c.metadata,
            ).where(
                holds.c.wallet_id == wallet.id, holds.c.status == "active", holds.c.expires_at <= tx.now
            ).order_by(holds.c.id)
        )
    ).all()
    # What the due lots held before their expired holds let go, so credit_grant.expired can report all that
    # went to breakage (a hold's release from an ended lot goes there directly).
    posted_before = await _due_lot_balances(tx, wallet.id) if due_holds else {}
    for hold in due_holds:
        operation_id = new_id("op")
        await repository.insert_operation(
            tx, id=operation_id, kind="hold_expiry", unit=wallet.unit, amount=hold.amount,
            customer_id=hold.customer_id, wallet_id=wallet.id, reference_id=hold.id, actor=EXPIRY_ACTOR,
        )
        journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
        await release_reservations(tx, journal, hold.id)
        await journal.post()
        await tx.conn.execute(
            update(holds).where(holds.c.id == hold.id).values(status="expired", ended_at=tx.now)
        )
        await emit(tx, "hold.expired", {"hold": _expired_hold_data(hold, wallet.unit)})
    due_lots = (
        await tx.conn.execute(
            select(
                credit_grants.c.id, credit_grants.c.customer_id, credit_grants.c.amount, credit_grants.c.category,
                credit_grants.c.source, credit_grants.c.expires_at, credit_grants.c.metadata, accounts.c.posted,
                accounts.c.held,
            )
            .select_from(credit_grants.join(accounts, accounts.c.id == credit_grants.c.id))
            .where(
                credit_grants.c.wallet_id == wallet.id,
                credit_grants.c.status == "active",
                credit_grants.c.expires_at <= tx.now,
            )
            .order_by(credit_grants.c.id)
        )
    ).all()
    for lot in due_lots:
        unheld = lot.posted - lot.held
        operation_id = new_id("op")
        await repository.insert_operation(
            tx, id=operation_id, kind="expiry", unit=wallet.unit, amount=max(unheld, 0),
            customer_id=lot.customer_id, wallet_id=wallet.id, reference_id=lot.id, actor=EXPIRY_ACTOR,
        )
        journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
        journal.transfer(lot.id, system_account_id("breakage", wallet.unit), unheld, "expiry")
        await journal.post()
        await tx.conn.execute(
            update(credit_grants).where(credit_grants.c.id == lot.id).values(status="expired", ended_at=tx.now)
        )
        expired = max(unheld, 0) + posted_before.get(lot.id, lot.posted) - lot.posted
        await emit(tx, "credit_grant.expired", {"credit_grant": _expired_lot_data(lot, expired, wallet.unit)})
    await repository.set_next_expiry(tx, wallet.id, await repository.earliest_expiry(tx, wallet.id))
    refreshed = await repository.lock_wallet(tx, wallet.id)
    assert refreshed is not None
    return refreshed


async def _due_lot_balances(tx: Tx, wallet_id: str) -> dict[str, int]:
    rows = await tx.conn.execute(
        select(credit_grants.c.id, accounts.c.posted)
        .select_from(credit_grants.join(accounts, accounts.c.id == credit_grants.c.id))
        .where(
            credit_grants.c.wallet_id == wallet_id,
            credit_grants.c.status == "active",
            credit_grants.c.expires_at <= tx.now,
        )
    )
    return {row.id: row.posted for row in rows}


def _expired_hold_data(hold: Any, unit: str) -> dict[str, Any]:
    return {
        "object": "hold", "id": hold.id, "customer": hold.customer_id, "currency": unit,
        "amount": amount_text(hold.amount, unit), "captured": amount_text(hold.captured, unit),
        "released": amount_text(hold.amount - hold.captured, unit), "expires_at": timestamp_text(hold.expires_at),
        "metadata": hold.metadata,
    }


def _expired_lot_data(lot: Any, expired: int, unit: str) -> dict[str, Any]:
    # `expired` is what went to breakage now; a part still held by a live hold goes when that hold ends.
    return {
        "object": "credit_grant", "id": lot.id, "customer": lot.customer_id, "currency": unit,
        "amount": amount_text(lot.amount, unit), "expired": amount_text(expired, unit),
        "category": lot.category, "source": lot.source, "expires_at": timestamp_text(lot.expires_at),
        "metadata": lot.metadata,
    }


async def lock_and_sweep(tx: Tx, wallet_id: str) -> WalletState | None:
    """Lock a wallet and apply any expiry that is due: every money operation starts here."""
    wallet = await repository.lock_wallet(tx, wallet_id)
    if wallet is None:
        return None
    return await sweep_wallet(tx, wallet)
