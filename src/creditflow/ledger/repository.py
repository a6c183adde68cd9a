"""Ledger queries. Every balance change is a conditional single-statement UPDATE."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, func, or_, select, update

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
from creditflow.errors import InsufficientFunds, NotFound
from creditflow.ledger.models import Lot, WalletState

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


async def lock_wallet(tx: Tx, wallet_id: str) -> WalletState | None:
    """Lock one wallet row (PostgreSQL FOR UPDATE; SQLite already holds the write lock)."""
    row = (
        await tx.conn.execute(select(*_WALLET_COLUMNS).where(wallets.c.id == wallet_id).with_for_update())
    ).first()
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


async def change_account(tx: Tx, account_id: str, posted: int, held: int) -> None:
    """Apply a delta to a customer account; the WHERE refuses to cross the limit (the CHECK backs it)."""
    result = await tx.conn.execute(
        update(accounts)
        .where(
            accounts.c.id == account_id,
            accounts.c.posted + posted - (accounts.c.held + held) >= -accounts.c.credit_limit,
            accounts.c.held + held >= 0,
        )
        .values(posted=accounts.c.posted + posted, held=accounts.c.held + held)
    )
    if result.rowcount != 1:
        raise InsufficientFunds("the account cannot cover this amount", param="amount")


async def change_wallet(tx: Tx, wallet_id: str, posted: int, held: int) -> WalletState:
    row = (
        await tx.conn.execute(
            update(wallets)
            .where(wallets.c.id == wallet_id)
            .values(posted=wallets.c.posted + posted, held=wallets.c.held + held, updated_at=tx.now)
            .returning(*_WALLET_COLUMNS)
        )
    ).one()
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
    await tx.conn.execute(
        operations.insert().values(
            api_key_id=api_key_id,
            id=id,
            kind=kind,
            customer_id=customer_id,
            wallet_id=wallet_id,
            unit=unit,
            amount=amount,
            reversed_amount=0,
            reference_id=reference_id,
            actor=actor or tx.actor,
            description=description,
            metadata=metadata or {},
            created_at=tx.now,
        )
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


async def active_allocations(tx: Tx, hold_id: str) -> list[Any]:
    query = (
        select(hold_allocations.c.seq, hold_allocations.c.account_id, hold_allocations.c.remaining)
        .where(hold_allocations.c.hold_id == hold_id, hold_allocations.c.remaining > 0)
        .order_by(hold_allocations.c.seq)
    )
    return list((await tx.conn.execute(query)).all())


async def reduce_allocation(tx: Tx, hold_id: str, seq: int, amount: int) -> None:
    await tx.conn.execute(
        update(hold_allocations)
        .where(and_(hold_allocations.c.hold_id == hold_id, hold_allocations.c.seq == seq))
        .values(remaining=hold_allocations.c.remaining - amount)
    )


async def ended_lot_ids(tx: Tx, account_ids: list[str]) -> set[str]:
    """Those of `account_ids` that are credit lots no longer spendable: voided, expired or past expiry."""
    if not account_ids:
        return set()
    rows = await tx.conn.execute(
        select(credit_grants.c.id).where(
            credit_grants.c.id.in_(account_ids),
            or_(credit_grants.c.status != "active", credit_grants.c.expires_at <= tx.now),
        )
    )
    return set(rows.scalars().all())
