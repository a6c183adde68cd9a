"""Debits (spend now) and their refunds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from creditflow import money
from creditflow.db.tables import operations
from creditflow.db.tx import Tx
from creditflow.errors import DomainError, InsufficientFunds, NotFound, RefundExceedsDebit
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.draw import plan_draw
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import (
    DebitResult,
    Draw,
    Lot,
    RefundLine,
    RefundResult,
    WalletState,
    system_account_id,
)
from creditflow.ledger.spend import DebitRequest, debit_many


async def draw_from_wallet(tx: Tx, journal: Journal, wallet: WalletState, amount: int, kind: str) -> list[Draw]:
    """Move `amount` from the wallet's lots (then overdraft) to revenue; the wallet must be locked."""
    if amount > wallet.available:
        raise InsufficientFunds(
            "the wallet's available balance does not cover this amount",
            param="amount",
            details={"available": money.format(wallet.available, wallet.unit), "currency": wallet.unit},
        )
    draws = plan_draw(
        await repository.spendable_lots(tx, wallet.id), await repository.overdraft_of(tx, wallet), amount
    )
    revenue = system_account_id("revenue", wallet.unit)
    for draw in draws:
        journal.transfer(draw.account_id, revenue, draw.amount, kind)
    return draws


async def debit(
    tx: Tx,
    *,
    customer: str,
    amount: int,
    unit: str | None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    api_key_id: str | None = None,
) -> DebitResult:
    """Spend `amount` now, drawing lots in order. Writes nothing when the balance or a budget is short."""
    request = DebitRequest(customer, amount, unit, description, metadata or {}, api_key_id=api_key_id)
    (outcome,) = await debit_many(tx, [request])
    if isinstance(outcome, DomainError):
        raise outcome
    return outcome


async def _debit_row(tx: Tx, debit_id: str) -> Any:
    row = (
        await tx.conn.execute(
            select(operations).where(operations.c.id == debit_id, operations.c.kind == "debit")
        )
    ).first()
    if row is None:
        raise NotFound(f"no debit '{debit_id}'", param="id")
    return row


async def _drawn_per_account(tx: Tx, debit_id: str) -> list[Draw]:
    revenue_transfers = [t for t in await repository.transfers_of(tx, [debit_id]) if t.kind == "debit"]
    return [Draw(t.debit_account_id, t.amount) for t in revenue_transfers]


async def get_debit(tx: Tx, debit_id: str) -> DebitResult:
    row = await _debit_row(tx, debit_id)
    wallet = await lock_and_sweep(tx, row.wallet_id)
    assert wallet is not None
    return DebitResult(
        id=row.id, customer_id=row.customer_id, unit=row.unit, amount=row.amount, refunded=row.reversed_amount,
        drawn=await _drawn_per_account(tx, debit_id), wallet=wallet, description=row.description,
        metadata=row.metadata, created_at=row.created_at, api_key_id=row.api_key_id,
    )


async def refund_debit(tx: Tx, debit_id: str, amount: int | None = None) -> RefundResult:
    """Return up to the not-yet-refunded part of a debit to the accounts it came from, latest draw first.

    The share of a lot that has since expired or been voided goes to breakage: credits never outlive
    their expiry.
    """
    row = await _debit_row(tx, debit_id)
    wallet = await lock_and_sweep(tx, row.wallet_id)
    assert wallet is not None
    row = await _debit_row(tx, debit_id)
    refundable = row.amount - row.reversed_amount
    amount = refundable if amount is None else amount
    if amount > refundable or amount <= 0:
        raise RefundExceedsDebit(
            f"at most {money.format(refundable, row.unit)} {row.unit} of this debit can still be refunded",
            param="amount", details={"refundable": money.format(refundable, row.unit), "currency": row.unit},
        )
    # The conditional UPDATE is what makes two concurrent refunds unable to exceed the debit.
    claimed = await tx.conn.execute(
        update(operations)
        .where(operations.c.id == debit_id, operations.c.amount - operations.c.reversed_amount >= amount)
        .values(reversed_amount=operations.c.reversed_amount + amount)
    )
    if claimed.rowcount != 1:
        raise RefundExceedsDebit("this debit has already been refunded", param="amount")
    already = await _refunded_per_account(tx, debit_id)
    refund_id = new_id("op")
    await repository.insert_operation(
        tx, id=refund_id, kind="refund", unit=row.unit, amount=amount, customer_id=row.customer_id,
        wallet_id=row.wallet_id, reference_id=debit_id,
    )
    journal = Journal(tx, operation_id=refund_id, unit=row.unit, wallet_id=row.wallet_id)
    drawn = await _drawn_per_account(tx, debit_id)
    ended_lots = await repository.ended_lot_ids(tx, [d.account_id for d in drawn])
    revenue, breakage_account = system_account_id("revenue", row.unit), system_account_id("breakage", row.unit)
    lines: list[RefundLine] = []
    left = amount
    for draw in reversed(drawn):
        take = min(draw.amount - already.get(draw.account_id, 0), left)
        if take <= 0:
            continue
        journal.transfer(revenue, draw.account_id, take, "refund")
        ended = draw.account_id in ended_lots
        if ended:
            journal.transfer(draw.account_id, breakage_account, take, "breakage")
        lines.append(RefundLine(draw.account_id, take, take if ended else 0))
        left -= take
        if left == 0:
            break
    wallet = await journal.post() or wallet
    return RefundResult(
        id=refund_id, debit_id=debit_id, unit=row.unit, amount=amount,
        breakage=sum(line.breakage for line in lines), lines=lines, wallet=wallet, created_at=tx.now,
    )


async def _refunded_per_account(tx: Tx, debit_id: str) -> dict[str, int]:
    refund_ids = (
        await tx.conn.execute(
            select(operations.c.id).where(operations.c.reference_id == debit_id, operations.c.kind == "refund")
        )
    ).scalars().all()
    totals: dict[str, int] = {}
    for transfer in await repository.transfers_of(tx, list(refund_ids)):
        if transfer.kind == "refund":
            totals[transfer.credit_account_id] = totals.get(transfer.credit_account_id, 0) + transfer.amount
    return totals


async def remove_credits(
    tx: Tx, wallet_id: str, amount: int, *, description: str, metadata: dict[str, Any] | None = None
) -> str:
    """Take `amount` of unheld credits out of the wallet to `adjustments` (nobody earned them: not revenue),
    lots in draw order, never the overdraft. Refused, writing nothing, beyond the credits there are. Returns
    the operation's id."""
    wallet = await lock_and_sweep(tx, wallet_id)
    if wallet is None:
        raise NotFound(f"no wallet '{wallet_id}'", param="wallet")
    overdraft = await repository.overdraft_of(tx, wallet)
    lots = await repository.spendable_lots(tx, wallet.id)
    draws = plan_draw(lots, Lot(overdraft.account_id, 0, 0, 0), amount)
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="remove_credits", unit=wallet.unit, amount=amount, customer_id=wallet.customer_id,
        wallet_id=wallet.id, description=description, metadata=metadata,
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    adjustments = system_account_id("adjustments", wallet.unit)
    for draw in draws:
        journal.transfer(draw.account_id, adjustments, draw.amount, "remove_credits")
    await journal.post()
    return operation_id
