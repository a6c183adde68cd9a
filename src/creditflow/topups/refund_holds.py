"""Holds on named lots, for refunds: the credits a refund gives back are reserved on the top-up's own grants
(not drawn in spending order, as ledger/holds.py reserves), then taken back or released.

The rows are ordinary holds and hold allocations, so `creditflow check`, the wallet's held balance and
expiry treat them like any other. Taking them back is not spending: the paid credits go to the `refunds`
system account and the bonus back to `promotions`, and no budget counts them.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update

from creditflow.db.tables import hold_allocations, holds, operations
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import Draw, Grant, system_account_id

TAKE_BACK = {"paid": "refunds", "promotional": "promotions"}


def ceil_share(amount: int, part: int, whole: int) -> int:
    """amount * part / whole, rounded up: a refund of money takes back at least its credits' worth."""
    return -(-amount * part // whole)


def unheld(grant: Grant) -> int:
    return grant.remaining - grant.held if grant.status == "active" else 0


async def hold_on_lots(
    tx: Tx, grants: list[tuple[Grant, int]], *, expires_in: int, description: str, metadata: dict[str, Any]
) -> str:
    """Reserve `amount` on each grant (one wallet, locked and swept by the caller; amounts within what is unheld)."""
    reserved = [Draw(grant.id, amount) for grant, amount in grants if amount > 0]
    first = grants[0][0]
    wallet = await repository.lock_wallet(tx, first.wallet_id)
    assert wallet is not None
    hold_id, operation_id = new_id("hld"), new_id("op")
    total = sum(draw.amount for draw in reserved)
    expires_at = tx.now + timedelta(seconds=expires_in)
    await tx.conn.execute(
        holds.insert().values(
            id=hold_id, customer_id=first.customer_id, wallet_id=first.wallet_id, unit=first.unit, amount=total,
            captured=0, status="active", expires_at=expires_at, description=description, metadata=metadata,
            actor=tx.actor, created_at=tx.now,
        )
    )
    await tx.conn.execute(
        hold_allocations.insert(),
        [{"hold_id": hold_id, "seq": seq, "account_id": draw.account_id, "amount": draw.amount,
          "remaining": draw.amount} for seq, draw in enumerate(reserved)],
    )
    await repository.insert_operation(
        tx, id=operation_id, kind="hold", unit=first.unit, amount=total, customer_id=first.customer_id,
        wallet_id=first.wallet_id, reference_id=hold_id, description=description, metadata=metadata,
    )
    journal = Journal(tx, operation_id=operation_id, unit=first.unit, wallet_id=first.wallet_id)
    for draw in reserved:
        journal.reserve(draw.account_id, draw.amount)
    await journal.post()
    await repository.lower_next_expiry(tx, wallet, expires_at)
    return hold_id


async def take_back(tx: Tx, hold_id: str, categories: dict[str, str], *, reference_id: str) -> int:
    """Consume what the hold still reserves: each lot's share leaves the wallet. Returns the amount taken.

    `categories` maps each held account to its grant's category (paid or promotional). The caller has
    locked the wallet (lock_and_sweep) and checked that the hold is still active.
    """
    allocations = await repository.active_allocations(tx, hold_id)
    hold = (await tx.conn.execute(holds.select().where(holds.c.id == hold_id))).one()
    operation_id = new_id("op")
    taken = sum(allocation.remaining for allocation in allocations)
    await repository.insert_operation(
        tx, id=operation_id, kind="topup_refund", unit=hold.unit, amount=taken, customer_id=hold.customer_id,
        wallet_id=hold.wallet_id, reference_id=reference_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=hold.unit, wallet_id=hold.wallet_id)
    for allocation in allocations:
        destination = system_account_id(TAKE_BACK[categories[allocation.account_id]], hold.unit)
        journal.release(allocation.account_id, allocation.remaining)
        journal.transfer(allocation.account_id, destination, allocation.remaining, "refund")
        await repository.reduce_allocation(tx, hold_id, allocation.seq, allocation.remaining)
    await journal.post()
    await tx.conn.execute(
        update(holds).where(holds.c.id == hold_id).values(captured=taken, status="captured", ended_at=tx.now)
    )
    return taken


async def give_back(tx: Tx, refund_id: str, *, wallet_id: str) -> tuple[int, int]:
    """Reverse what take_back moved for `refund_id` (its gateway refund failed after all): each lot that is still
    active gets its credits back by a reversing transfer. Returns (given back, left out because the lot has
    ended meanwhile: voided or expired credits never come back to life). The caller has locked the wallet."""
    taken = (
        await tx.conn.execute(
            select(operations.c.id, operations.c.unit, operations.c.customer_id)
            .where(operations.c.reference_id == refund_id, operations.c.kind == "topup_refund")
        )
    ).first()
    if taken is None:
        return 0, 0
    moved = await repository.transfers_of(tx, [taken.id])
    ended = await repository.ended_lot_ids(tx, [t.debit_account_id for t in moved])
    operation_id = new_id("op")
    journal = Journal(tx, operation_id=operation_id, unit=taken.unit, wallet_id=wallet_id)
    given = left_out = 0
    for transfer in moved:
        if transfer.debit_account_id in ended:
            left_out += transfer.amount
            continue
        journal.transfer(transfer.credit_account_id, transfer.debit_account_id, transfer.amount, "refund_reversal")
        given += transfer.amount
    await repository.insert_operation(
        tx, id=operation_id, kind="refund_reversal", unit=taken.unit, amount=given,
        customer_id=taken.customer_id, wallet_id=wallet_id, reference_id=refund_id,
        description="The gateway's refund failed: credits given back",
    )
    await journal.post()
    return given, left_out
