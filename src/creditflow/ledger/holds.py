"""Holds: reserve now, capture (once or in parts) or void later. Two-phase, like pending transfers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update

from creditflow import money
from creditflow.budgets import guard as budget_guard
from creditflow.budgets.guard import BudgetState
from creditflow.db.pagination import newest_first
from creditflow.db.tables import hold_allocations, holds
from creditflow.db.tx import Tx
from creditflow.errors import HoldExpired, HoldNotActive, InsufficientFunds, NotFound
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.debits import draw_from_wallet
from creditflow.ledger.draw import plan_draw
from creditflow.ledger.expiry import lock_and_sweep, release_reservations
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import CaptureResult, Draw, Hold, WalletState, system_account_id
from creditflow.wallets.lookup import resolve_wallet


@dataclass(slots=True)
class PlacedHold:
    hold: Hold
    wallet: WalletState
    """The wallet's balances with the hold in place."""
    budgets: list[BudgetState]
    """The budgets it reserved of, with the reservation counted."""


async def create_hold(
    tx: Tx,
    *,
    customer: str,
    amount: int,
    unit: str | None,
    expires_in: int,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    api_key_id: str | None = None,
) -> Hold:
    """Reserve `amount` on specific lots in draw order, and of the budgets it counts against. Writes nothing
    when the balance is short or a blocking budget would be exceeded."""
    placed = await place_hold(
        tx, customer=customer, amount=amount, unit=unit, expires_in=expires_in, description=description,
        metadata=metadata, api_key_id=api_key_id,
    )
    return placed.hold


async def place_hold(
    tx: Tx,
    *,
    customer: str,
    amount: int,
    unit: str | None,
    expires_in: int,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    api_key_id: str | None = None,
) -> PlacedHold:
    """create_hold, also answering what callers such as authorize report next: the wallet and budgets
    as the hold left them, without reading them again."""
    ref = await resolve_wallet(tx, customer, unit)
    wallet = await lock_and_sweep(tx, ref.wallet_id)
    assert wallet is not None
    if amount > wallet.available:
        raise InsufficientFunds(
            "the wallet's available balance does not cover this hold",
            param="amount", details={"available": money.format(wallet.available, wallet.unit), "currency": wallet.unit},
        )
    if api_key_id is not None:
        await repository.check_api_key_owner(tx, api_key_id, ref.customer_id)
    budgets = await budget_guard.check_hold(tx, wallet, api_key_id, amount)
    draws = plan_draw(
        await repository.spendable_lots(tx, wallet.id), await repository.overdraft_of(tx, wallet), amount
    )
    hold_id = new_id("hld")
    expires_at = tx.now + timedelta(seconds=expires_in)
    await tx.conn.execute(
        holds.insert().values(
            id=hold_id, customer_id=ref.customer_id, wallet_id=wallet.id, unit=wallet.unit, amount=amount,
            captured=0, status="active", expires_at=expires_at, description=description,
            metadata=metadata or {}, actor=tx.actor, created_at=tx.now, api_key_id=api_key_id,
        )
    )
    await budget_guard.reserve_for_hold(tx, budgets, hold_id, amount)
    await tx.conn.execute(
        hold_allocations.insert(),
        [
            {"hold_id": hold_id, "seq": seq, "account_id": d.account_id, "amount": d.amount, "remaining": d.amount}
            for seq, d in enumerate(draws)
        ],
    )
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="hold", unit=wallet.unit, amount=amount,
        customer_id=ref.customer_id, wallet_id=wallet.id, reference_id=hold_id, description=description,
        metadata=metadata, api_key_id=api_key_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    for draw in draws:
        journal.reserve(draw.account_id, draw.amount)
    after = await journal.post()
    assert after is not None  # a hold always changes what the wallet holds
    await repository.lower_next_expiry(tx, wallet, expires_at)
    return PlacedHold(await get_hold(tx, hold_id), after, budgets)


async def _active_hold(tx: Tx, hold_id: str) -> tuple[Hold, WalletState]:
    """The hold and its wallet, locked and swept; refuses holds that can no longer be used."""
    hold = await get_hold(tx, hold_id)
    wallet = await lock_and_sweep(tx, hold.wallet_id)
    assert wallet is not None
    hold = await get_hold(tx, hold_id)
    if hold.status == "expired":
        raise HoldExpired(f"hold {hold_id} expired at {hold.expires_at.isoformat()}", param="id")
    if hold.status != "active":
        raise HoldNotActive(f"hold {hold_id} is {hold.status}", param="id")
    return hold, wallet


async def capture_hold(tx: Tx, hold_id: str, amount: int | None = None, *, final: bool = True) -> CaptureResult:
    """Consume the hold's reservations in draw order; any excess is drawn like a debit.

    A capture within what the hold still reserves never fails. A final capture releases the rest.
    """
    hold, wallet = await _active_hold(tx, hold_id)
    amount = hold.reserved if amount is None else amount
    await budget_guard.capture_for_hold(tx, wallet, hold.api_key_id, hold_id, amount, hold.reserved)
    capture_id = new_id("op")
    journal = Journal(tx, operation_id=capture_id, unit=hold.unit, wallet_id=hold.wallet_id)
    await repository.insert_operation(
        tx, id=capture_id, kind="capture", unit=hold.unit, amount=amount, customer_id=hold.customer_id,
        wallet_id=hold.wallet_id, reference_id=hold_id, api_key_id=hold.api_key_id,
    )
    revenue = system_account_id("revenue", hold.unit)
    left = amount
    for allocation in await repository.active_allocations(tx, hold_id):
        take = min(allocation.remaining, left)
        if take == 0:
            break
        journal.release(allocation.account_id, take)
        journal.transfer(allocation.account_id, revenue, take, "capture")
        await repository.reduce_allocation(tx, hold_id, allocation.seq, take)
        left -= take
    if left > 0:
        wallet = await repository.lock_wallet(tx, hold.wallet_id)
        assert wallet is not None
        # The reservations consumed above are still counted as held on the wallet row until posting.
        await draw_from_wallet(tx, journal, wallet, left, "capture")
    breakage = await release_reservations(tx, journal, hold_id) if final else 0
    wallet = await journal.post()
    await tx.conn.execute(
        update(holds)
        .where(holds.c.id == hold_id)
        .values(
            captured=holds.c.captured + amount,
            status="captured" if final else "active",
            ended_at=tx.now if final else None,
        )
    )
    if wallet is None:
        wallet = await repository.lock_wallet(tx, hold.wallet_id)
        assert wallet is not None
    return CaptureResult(
        id=capture_id, hold=await get_hold(tx, hold_id), amount=amount, breakage=breakage, wallet=wallet,
        created_at=tx.now,
    )


async def void_hold(tx: Tx, hold_id: str) -> Hold:
    hold, _ = await _active_hold(tx, hold_id)
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="hold_void", unit=hold.unit, amount=hold.reserved,
        customer_id=hold.customer_id, wallet_id=hold.wallet_id, reference_id=hold_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=hold.unit, wallet_id=hold.wallet_id)
    await release_reservations(tx, journal, hold_id)
    await journal.post()
    await tx.conn.execute(update(holds).where(holds.c.id == hold_id).values(status="voided", ended_at=tx.now))
    return await get_hold(tx, hold_id)


async def get_hold(tx: Tx, hold_id: str) -> Hold:
    row = (await tx.conn.execute(select(holds).where(holds.c.id == hold_id))).first()
    if row is None:
        raise NotFound(f"no hold '{hold_id}'", param="id")
    allocations = (
        await tx.conn.execute(
            select(hold_allocations.c.account_id, hold_allocations.c.remaining)
            .where(hold_allocations.c.hold_id == hold_id)
            .order_by(hold_allocations.c.seq)
        )
    ).all()
    return _hold_from_row(tx, row, [Draw(a.account_id, a.remaining) for a in allocations])


def _hold_from_row(tx: Tx, row: Any, allocations: list[Draw]) -> Hold:
    """A hold as of tx.now: past expires_at it reserves nothing, even before a sweep has released it."""
    lapsed = row.status == "active" and row.expires_at <= tx.now
    if lapsed:
        allocations = [Draw(a.account_id, 0) for a in allocations]
    return Hold(
        id=row.id, customer_id=row.customer_id, wallet_id=row.wallet_id, unit=row.unit, amount=row.amount,
        captured=row.captured, reserved=sum(a.amount for a in allocations),
        status="expired" if lapsed else row.status, expires_at=row.expires_at, description=row.description,
        metadata=row.metadata, created_at=row.created_at, ended_at=row.expires_at if lapsed else row.ended_at,
        allocations=allocations, api_key_id=row.api_key_id,
    )


async def list_holds(
    tx: Tx, *, customer_id: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Hold]:
    query = newest_first(select(holds), holds.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(holds.c.customer_id == customer_id)
    if status == "active":
        query = query.where(holds.c.status == "active", holds.c.expires_at > tx.now)
    elif status == "expired":
        lapsed = and_(holds.c.status == "active", holds.c.expires_at <= tx.now)
        query = query.where(or_(holds.c.status == "expired", lapsed))
    elif status is not None:
        query = query.where(holds.c.status == status)
    rows = (await tx.conn.execute(query)).all()
    allocations: dict[str, list[Draw]] = {row.id: [] for row in rows}
    if rows:
        allocation_rows = await tx.conn.execute(
            select(hold_allocations.c.hold_id, hold_allocations.c.account_id, hold_allocations.c.remaining)
            .where(hold_allocations.c.hold_id.in_(list(allocations)))
            .order_by(hold_allocations.c.hold_id, hold_allocations.c.seq)
        )
        for a in allocation_rows:
            allocations[a.hold_id].append(Draw(a.account_id, a.remaining))
    return [_hold_from_row(tx, row, allocations[row.id]) for row in rows]
