"""Holds: reserve now, capture (once or in parts) or void later. Two-phase, like pending transfers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import BigInteger, and_, bindparam, exists, or_, select, update

from creditflow import money
from creditflow.budgets import guard as budget_guard
from creditflow.budgets.guard import BudgetState
from creditflow.db.pagination import newest_first
from creditflow.db.tables import credit_grants, hold_allocations, hold_budgets, holds
from creditflow.db.tx import Tx
from creditflow.db.types import UTCDateTime
from creditflow.errors import HoldExpired, HoldNotActive, InsufficientFunds, NotFound
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.debits import draw_from_wallet
from creditflow.ledger.draw import plan_draw
from creditflow.ledger.expiry import release_reservations, release_rest, sweep_wallet
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import CaptureResult, Draw, HeldAllocation, Hold, WalletState, system_account_id
from creditflow.ledger.spend import find_book, open_books


@dataclass(slots=True)
class PlacedHold:
    hold: Hold
    wallet: WalletState
    """The wallet's balances with the hold in place."""
    budgets: list[BudgetState]
    """The budgets it reserved of, with the reservation counted."""


@dataclass(slots=True)
class _ReadHold:
    """A hold as read under its wallet's lock, with what a capture or void needs beyond the Hold."""

    hold: Hold
    allocations: list[HeldAllocation]
    """Every allocation in draw order (those used up too), with whether its lot has ended."""
    reserves_budget: bool


# Built once: building and hashing these per request cost more CPU than running them.
_INSERT_HOLD = holds.insert()
_INSERT_ALLOCATION = hold_allocations.insert()
_RESERVES_BUDGET = (
    exists()
    .where(hold_budgets.c.hold_id == holds.c.id, hold_budgets.c.reserved > 0)
    .correlate(holds)
    .label("reserves_budget")
)
# The hold with its allocations (and their lots' state) in one statement: one row per allocation.
_READ_HOLD = (
    select(holds, *repository.ALLOCATION_COLUMNS, _RESERVES_BUDGET)
    .select_from(
        holds.outerjoin(hold_allocations, hold_allocations.c.hold_id == holds.c.id).outerjoin(
            credit_grants, repository.ALLOCATION_LOT
        )
    )
    .where(holds.c.id == bindparam("hold_id"))
    .order_by(hold_allocations.c.seq)
)
_END_CAPTURE = (
    update(holds)
    .where(holds.c.id == bindparam("hold_id"))
    .values(
        captured=holds.c.captured + bindparam("capture", type_=BigInteger()), status=bindparam("new_status"),
        ended_at=bindparam("end", type_=UTCDateTime()),
    )
)


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
    api_key_owner: str | None = None,
) -> PlacedHold:
    """create_hold, also answering what callers such as authorize report next: the wallet and budgets
    as the hold left them, without reading them again. `api_key_owner`: the key's customer when the caller
    has just read the key (authorize), so it is not looked up again.

    The wallet, its lots and overdraft are read as the set-based debit path reads them (spend.open_books:
    two statements built once), and the hold is answered from what was written rather than read back.
    """
    book = find_book(await open_books(tx, {customer}), customer, unit)
    wallet = book.state
    if amount > wallet.available:
        raise InsufficientFunds(
            "the wallet's available balance does not cover this hold",
            param="amount", details={"available": money.format(wallet.available, wallet.unit), "currency": wallet.unit},
        )
    if api_key_id is not None:
        owner = api_key_owner or (await repository.api_key_owners(tx, {api_key_id})).get(api_key_id)
        mismatch = repository.api_key_mismatch(api_key_id, owner, wallet.customer_id)
        if mismatch is not None:
            raise mismatch
    budgets = budget_guard.check_hold(book.budgets, api_key_id, amount)
    draws = plan_draw(book.lots, book.overdraft, amount)
    hold = Hold(
        id=new_id("hld"), customer_id=wallet.customer_id, wallet_id=wallet.id, unit=wallet.unit, amount=amount,
        captured=0, reserved=amount, status="active", expires_at=tx.now + timedelta(seconds=expires_in),
        description=description, metadata=metadata or {}, created_at=tx.now, ended_at=None,
        allocations=[Draw(d.account_id, d.amount) for d in draws], api_key_id=api_key_id,
    )
    await tx.conn.execute(
        _INSERT_HOLD,
        {
            "id": hold.id, "customer_id": hold.customer_id, "wallet_id": hold.wallet_id, "unit": hold.unit,
            "amount": amount, "captured": 0, "status": "active", "expires_at": hold.expires_at,
            "description": description, "metadata": hold.metadata, "actor": tx.actor, "created_at": tx.now,
            "api_key_id": api_key_id,
        },
    )
    await budget_guard.reserve_for_hold(tx, budgets, hold.id, amount)
    await tx.conn.execute(
        _INSERT_ALLOCATION,
        [
            {"hold_id": hold.id, "seq": seq, "account_id": d.account_id, "amount": d.amount, "remaining": d.amount}
            for seq, d in enumerate(draws)
        ],
    )
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="hold", unit=wallet.unit, amount=amount,
        customer_id=wallet.customer_id, wallet_id=wallet.id, reference_id=hold.id, description=description,
        metadata=metadata, api_key_id=api_key_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    for draw in draws:
        journal.reserve(draw.account_id, draw.amount)
    after = await journal.post()
    assert after is not None  # a hold always changes what the wallet holds
    await repository.lower_next_expiry(tx, after, hold.expires_at)
    return PlacedHold(hold, after, budgets)


async def _read_hold(tx: Tx, hold_id: str) -> _ReadHold:
    rows = (await tx.conn.execute(_READ_HOLD, {"hold_id": hold_id, "now": tx.now})).all()
    if not rows:
        raise NotFound(f"no hold '{hold_id}'", param="id")
    allocations = [repository.held_allocation(row) for row in rows if row.seq is not None]
    hold = _hold_from_row(tx, rows[0], [Draw(a.account_id, a.remaining) for a in allocations])
    return _ReadHold(hold, allocations, bool(rows[0].reserves_budget))


async def _active_hold(tx: Tx, hold_id: str) -> tuple[_ReadHold, WalletState]:
    """The hold and its wallet, locked and swept; refuses holds that can no longer be used."""
    wallet = await repository.lock_wallet_of_hold(tx, hold_id)
    if wallet is None:
        raise NotFound(f"no hold '{hold_id}'", param="id")
    wallet = await sweep_wallet(tx, wallet)
    # Read under the lock (and after the sweep, which may have expired it): every change to a hold is made
    # under its wallet's lock.
    read = await _read_hold(tx, hold_id)
    hold = read.hold
    if hold.status == "expired":
        raise HoldExpired(f"hold {hold_id} expired at {hold.expires_at.isoformat()}", param="id")
    if hold.status != "active":
        raise HoldNotActive(f"hold {hold_id} is {hold.status}", param="id")
    return read, wallet


async def capture_hold(tx: Tx, hold_id: str, amount: int | None = None, *, final: bool = True) -> CaptureResult:
    """Consume the hold's reservations in draw order; any excess is drawn like a debit.

    A capture within what the hold still reserves never fails. A final capture releases the rest.
    """
    read, wallet = await _active_hold(tx, hold_id)
    hold = read.hold
    amount = hold.reserved if amount is None else amount
    await budget_guard.capture_for_hold(
        tx, wallet, hold.api_key_id, hold_id, amount, hold.reserved, final=final,
        reserves_budget=read.reserves_budget,
    )
    capture_id = new_id("op")
    journal = Journal(tx, operation_id=capture_id, unit=hold.unit, wallet_id=hold.wallet_id)
    await repository.insert_operation(
        tx, id=capture_id, kind="capture", unit=hold.unit, amount=amount, customer_id=hold.customer_id,
        wallet_id=hold.wallet_id, reference_id=hold_id, api_key_id=hold.api_key_id,
    )
    revenue = system_account_id("revenue", hold.unit)
    left = amount
    reduced: dict[int, int] = {}
    for allocation in read.allocations:
        if left == 0:
            break
        take = min(allocation.remaining, left)
        if take == 0:
            continue  # used up by an earlier capture
        journal.release(allocation.account_id, take)
        journal.transfer(allocation.account_id, revenue, take, "capture")
        allocation.remaining -= take
        reduced[allocation.seq] = take
        left -= take
    if left > 0:
        wallet = await repository.lock_wallet(tx, hold.wallet_id)
        assert wallet is not None
        # The reservations consumed above are still counted as held on the wallet row until posting.
        await draw_from_wallet(tx, journal, wallet, left, "capture")
    breakage = 0
    if final:
        # Budget reservations were given back by capture_for_hold; the allocations' rest is released here,
        # in the same allocation updates as the capture's.
        breakage = release_rest(journal, read.allocations)
        for allocation in read.allocations:
            reduced[allocation.seq] = reduced.get(allocation.seq, 0) + allocation.remaining
            allocation.remaining = 0
    await repository.reduce_allocations(tx, hold_id, reduced)
    posted = await journal.post()
    await tx.conn.execute(
        _END_CAPTURE,
        {"hold_id": hold_id, "capture": amount, "new_status": "captured" if final else "active",
         "end": tx.now if final else None},
    )
    if posted is None:
        posted = await repository.lock_wallet(tx, hold.wallet_id)
        assert posted is not None
    hold.captured += amount
    hold.allocations = [Draw(a.account_id, a.remaining) for a in read.allocations]
    hold.reserved = sum(a.remaining for a in read.allocations)
    if final:
        hold.status, hold.ended_at = "captured", tx.now
    return CaptureResult(id=capture_id, hold=hold, amount=amount, breakage=breakage, wallet=posted, created_at=tx.now)


async def void_hold(tx: Tx, hold_id: str) -> Hold:
    read, _ = await _active_hold(tx, hold_id)
    hold = read.hold
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="hold_void", unit=hold.unit, amount=hold.reserved,
        customer_id=hold.customer_id, wallet_id=hold.wallet_id, reference_id=hold_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=hold.unit, wallet_id=hold.wallet_id)
    await release_reservations(tx, journal, hold_id, read.allocations, reserves_budget=read.reserves_budget)
    await journal.post()
    await tx.conn.execute(update(holds).where(holds.c.id == hold_id).values(status="voided", ended_at=tx.now))
    return await get_hold(tx, hold_id)


async def get_hold(tx: Tx, hold_id: str) -> Hold:
    return (await _read_hold(tx, hold_id)).hold


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
