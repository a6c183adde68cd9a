"""Ledger queries. Every balance change is a conditional single-statement UPDATE.

The statements every money request runs (lock a wallet, change balances, write an operation, read and
reduce hold allocations) are built once at import: building a Core statement and hashing it for the
compiled cache costs more CPU than executing it, and these run several times per request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, bindparam, case, func, or_, select, update

from creditflow.db.tables import (
    accounts,
    credit_grants,
    customer_api_keys,
    hold_allocations,
    holds,
    operations,
    transfers,
    wallets,
)
from creditflow.db.tx import Tx
from creditflow.db.types import UTCDateTime
from creditflow.errors import AmountTooLarge, InsufficientFunds, NotFound
from creditflow.ledger.models import HeldAllocation, Lot, WalletState
from creditflow.money import MAX_BALANCE, MICROS
from creditflow.observability import metrics

_WALLET_COLUMNS = (
    wallets.c.id,
    wallets.c.customer_id,
    wallets.c.unit,
    wallets.c.credit_limit,
    wallets.c.posted,
    wallets.c.held,
    wallets.c.overdraft_account_id,
    wallets.c.next_expiry_at,
    wallets.c.budgeted,
)


def wallet_from_row(row: Any) -> WalletState:
    return WalletState(*row[:9])


_LOCK_WALLET = select(*_WALLET_COLUMNS).where(wallets.c.id == bindparam("wallet_id")).with_for_update()
# Only wallet columns: on PostgreSQL a statement that waited for the lock re-reads the locked row, not the
# joined hold (whose wallet never changes).
_LOCK_WALLET_OF_HOLD = (
    select(*_WALLET_COLUMNS)
    .select_from(wallets.join(holds, holds.c.wallet_id == wallets.c.id))
    .where(holds.c.id == bindparam("hold_id"))
    .with_for_update(of=wallets)
)


async def lock_wallet(tx: Tx, wallet_id: str) -> WalletState | None:
    """Lock one wallet row (PostgreSQL FOR UPDATE; SQLite already holds the write lock)."""
    row = (await tx.conn.execute(_LOCK_WALLET, {"wallet_id": wallet_id})).first()
    return wallet_from_row(row) if row else None


async def lock_wallet_of_hold(tx: Tx, hold_id: str) -> WalletState | None:
    """Lock the wallet a hold reserves on, found from the hold id in the same statement; None for no such hold."""
    row = (await tx.conn.execute(_LOCK_WALLET_OF_HOLD, {"hold_id": hold_id})).first()
    return wallet_from_row(row) if row else None


def draw_order() -> tuple[Any, ...]:
    """priority, then soonest expiry with no expiry last (same SQL on both engines), then age, then id."""
    return (
        credit_grants.c.priority,
        case((credit_grants.c.expires_at.is_(None), 1), else_=0),
        credit_grants.c.expires_at,
        credit_grants.c.created_at,
        credit_grants.c.id,
    )


async def spendable_lots(tx: Tx, wallet_id: str, *, categories: tuple[str, ...] | None = None) -> list[Lot]:
    query = (
        select(accounts.c.id, accounts.c.posted, accounts.c.held, credit_grants.c.expires_at)
        .select_from(credit_grants.join(accounts, accounts.c.id == credit_grants.c.id))
        .where(
            credit_grants.c.wallet_id == wallet_id,
            credit_grants.c.status == "active",
            accounts.c.posted > accounts.c.held,
            or_(credit_grants.c.expires_at.is_(None), credit_grants.c.expires_at > tx.now),
        )
        .order_by(*draw_order())
    )
    if categories is not None:
        query = query.where(credit_grants.c.category.in_(categories))
    rows = (await tx.conn.execute(query)).all()
    return [Lot(account_id=r.id, posted=r.posted, held=r.held, expires_at=r.expires_at) for r in rows]


async def overdraft_of(tx: Tx, wallet: WalletState) -> Lot:
    row = (
        await tx.conn.execute(
            select(accounts.c.posted, accounts.c.held, accounts.c.credit_limit).where(
                accounts.c.id == wallet.overdraft_account_id
            )
        )
    ).one()
    return Lot(wallet.overdraft_account_id, row.posted, row.held, row.credit_limit)


_PAST_BALANCE = f"the balance would pass the largest balance of {MAX_BALANCE // MICROS} units"
# Bound parameters of an UPDATE must not be named like a column of its table: SQLAlchemy reserves those names.
_POSTED_DELTA = bindparam("posted_delta", type_=BigInteger())
_HELD_DELTA = bindparam("held_delta", type_=BigInteger())
_CHANGE_ACCOUNT = (
    update(accounts)
    .where(
        accounts.c.id == bindparam("account_id"),
        accounts.c.posted + _POSTED_DELTA - (accounts.c.held + _HELD_DELTA) >= -accounts.c.credit_limit,
        accounts.c.held + _HELD_DELTA >= 0,
        accounts.c.posted + _POSTED_DELTA <= MAX_BALANCE,
        accounts.c.held + _HELD_DELTA <= MAX_BALANCE,
    )
    .values(posted=accounts.c.posted + _POSTED_DELTA, held=accounts.c.held + _HELD_DELTA)
)
_CHANGE_WALLET = (
    update(wallets)
    .where(
        wallets.c.id == bindparam("wallet_id"),
        wallets.c.posted + _POSTED_DELTA <= MAX_BALANCE,
        wallets.c.held + _HELD_DELTA <= MAX_BALANCE,
    )
    .values(
        posted=wallets.c.posted + _POSTED_DELTA, held=wallets.c.held + _HELD_DELTA,
        updated_at=bindparam("now", type_=UTCDateTime()),
    )
    .returning(*_WALLET_COLUMNS)
)


async def change_account(tx: Tx, account_id: str, posted: int, held: int) -> None:
    """Apply a delta to a customer account; the WHERE refuses to cross the limit (the CHECK backs it)."""
    parameters = {"account_id": account_id, "posted_delta": posted, "held_delta": held}
    result = await tx.conn.execute(_CHANGE_ACCOUNT, parameters)
    if result.rowcount != 1:
        query = select(accounts.c.posted, accounts.c.held).where(accounts.c.id == account_id)
        row = (await tx.conn.execute(query)).one()
        if row.posted + posted > MAX_BALANCE or row.held + held > MAX_BALANCE:
            raise AmountTooLarge(_PAST_BALANCE, param="amount")
        raise InsufficientFunds("the account cannot cover this amount", param="amount")


async def change_wallet(tx: Tx, wallet_id: str, posted: int, held: int) -> WalletState:
    parameters = {"wallet_id": wallet_id, "posted_delta": posted, "held_delta": held, "now": tx.now}
    row = (await tx.conn.execute(_CHANGE_WALLET, parameters)).first()
    if row is None:  # the wallet is locked by this transaction, so only the bound can refuse it
        raise AmountTooLarge(_PAST_BALANCE, param="amount")
    return wallet_from_row(row)


async def set_next_expiry(tx: Tx, wallet_id: str, moment: datetime | None) -> None:
    await tx.conn.execute(update(wallets).where(wallets.c.id == wallet_id).values(next_expiry_at=moment))


async def lower_next_expiry(tx: Tx, wallet: WalletState, moment: datetime) -> None:
    if wallet.next_expiry_at is None or moment < wallet.next_expiry_at:
        await set_next_expiry(tx, wallet.id, moment)
        wallet.next_expiry_at = moment


async def earliest_expiry(tx: Tx, wallet_id: str) -> datetime | None:
    lots = select(func.min(credit_grants.c.expires_at)).where(
        credit_grants.c.wallet_id == wallet_id, credit_grants.c.status == "active"
    )
    active_holds = select(func.min(holds.c.expires_at)).where(
        holds.c.wallet_id == wallet_id, holds.c.status == "active"
    )
    candidates = [(await tx.conn.execute(q)).scalar() for q in (lots, active_holds)]
    present = [c for c in candidates if c is not None]
    return min(present) if present else None


async def api_key_owners(tx: Tx, api_key_ids: set[str]) -> dict[str, str]:
    """The customer each of these customer API keys belongs to (unknown ids are left out)."""
    if not api_key_ids:
        return {}
    rows = await tx.conn.execute(
        select(customer_api_keys.c.id, customer_api_keys.c.customer_id).where(
            customer_api_keys.c.id.in_(api_key_ids)
        )
    )
    return {row.id: row.customer_id for row in rows}


def api_key_mismatch(api_key_id: str, owner: str | None, customer_id: str) -> NotFound | None:
    """The error for spend that names an API key which is not the customer's, or None."""
    if owner == customer_id:
        return None
    return NotFound(f"the customer has no API key '{api_key_id}'", param="api_key")


async def check_api_key_owner(tx: Tx, api_key_id: str, customer_id: str) -> None:
    owners = await api_key_owners(tx, {api_key_id})
    error = api_key_mismatch(api_key_id, owners.get(api_key_id), customer_id)
    if error is not None:
        raise error


_INSERT_OPERATION = operations.insert()


async def insert_operation(
    tx: Tx,
    *,
    id: str,
    kind: str,
    unit: str,
    amount: int,
    customer_id: str | None,
    wallet_id: str | None,
    reference_id: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    actor: str | None = None,
    api_key_id: str | None = None,
) -> None:
    metrics.count_operations(tx.conn, (kind,))
    await tx.conn.execute(
        _INSERT_OPERATION,
        {
            "api_key_id": api_key_id,
            "id": id,
            "kind": kind,
            "customer_id": customer_id,
            "wallet_id": wallet_id,
            "unit": unit,
            "amount": amount,
            "reversed_amount": 0,
            "reference_id": reference_id,
            "actor": actor or tx.actor,
            "description": description,
            "metadata": metadata or {},
            "created_at": tx.now,
        },
    )


async def transfers_of(tx: Tx, operation_ids: list[str]) -> list[Any]:
    if not operation_ids:
        return []
    query = (
        select(transfers)
        .where(transfers.c.operation_id.in_(operation_ids))
        .order_by(transfers.c.operation_id, transfers.c.id)
    )
    return list((await tx.conn.execute(query)).all())


_ACTIVE_ALLOCATIONS = (
    select(hold_allocations.c.seq, hold_allocations.c.account_id, hold_allocations.c.remaining)
    .where(hold_allocations.c.hold_id == bindparam("hold_id"), hold_allocations.c.remaining > 0)
    .order_by(hold_allocations.c.seq)
)
_REDUCE_ALLOCATION = (
    update(hold_allocations)
    .where(
        and_(hold_allocations.c.hold_id == bindparam("of_hold"), hold_allocations.c.seq == bindparam("allocation"))
    )
    .values(remaining=hold_allocations.c.remaining - bindparam("reduction", type_=BigInteger()))
)


async def active_allocations(tx: Tx, hold_id: str) -> list[Any]:
    return list((await tx.conn.execute(_ACTIVE_ALLOCATIONS, {"hold_id": hold_id})).all())


async def reduce_allocation(tx: Tx, hold_id: str, seq: int, amount: int) -> None:
    await reduce_allocations(tx, hold_id, {seq: amount})


async def reduce_allocations(tx: Tx, hold_id: str, amounts: dict[int, int]) -> None:
    """Lower each allocation `seq` of the hold by its amount, in one executemany."""
    rows = [{"of_hold": hold_id, "allocation": seq, "reduction": n} for seq, n in sorted(amounts.items()) if n]
    if rows:
        await tx.conn.execute(_REDUCE_ALLOCATION, rows)


def lot_ended(now: Any) -> ColumnElement[bool]:
    """A credit lot no longer spendable: voided, expired or past its expiry (NULL, not true, for an account that
    is no lot, such as the overdraft, when outer-joined)."""
    return or_(credit_grants.c.status != "active", credit_grants.c.expires_at <= now)


def held_allocation(row: Any) -> HeldAllocation:
    """An allocation row read with ALLOCATION_COLUMNS."""
    return HeldAllocation(seq=row.seq, account_id=row.account_id, remaining=row.remaining, ended=bool(row.lot_ended))


# Allocation columns with whether the lot each one reserves on has ended; the statement binds "now".
ALLOCATION_COLUMNS = (
    hold_allocations.c.seq, hold_allocations.c.account_id, hold_allocations.c.remaining,
    lot_ended(bindparam("now", type_=UTCDateTime())).label("lot_ended"),
)
ALLOCATION_LOT = credit_grants.c.id == hold_allocations.c.account_id
_HELD_ALLOCATIONS = (
    select(*ALLOCATION_COLUMNS)
    .select_from(hold_allocations.outerjoin(credit_grants, ALLOCATION_LOT))
    .where(hold_allocations.c.hold_id == bindparam("hold_id"), hold_allocations.c.remaining > 0)
    .order_by(hold_allocations.c.seq)
)


async def held_allocations(tx: Tx, hold_id: str) -> list[HeldAllocation]:
    """What the hold still reserves, allocation by allocation in draw order, and whether each lot has ended."""
    rows = await tx.conn.execute(_HELD_ALLOCATIONS, {"hold_id": hold_id, "now": tx.now})
    return [held_allocation(row) for row in rows]


async def ended_lot_ids(tx: Tx, account_ids: list[str]) -> set[str]:
    """Those of `account_ids` that are credit lots no longer spendable: voided, expired or past expiry."""
    if not account_ids:
        return set()
    rows = await tx.conn.execute(
        select(credit_grants.c.id).where(credit_grants.c.id.in_(account_ids), lot_ended(tx.now))
    )
    return set(rows.scalars().all())
