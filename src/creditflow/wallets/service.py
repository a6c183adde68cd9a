"""Wallets: one per (customer, unit); a cached view of its lots plus an overdraft account."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update

from creditflow import money
from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import accounts, balance_alerts, wallets
from creditflow.db.tx import Tx
from creditflow.errors import CreditLimitBelowUsage, NotFound, WalletExists
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.debt import outstanding_debt
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.grants import lots_of_wallet
from creditflow.ledger.models import OVERDRAFT, SYSTEM_KINDS, Grant, WalletState, system_account_id


@dataclass(slots=True)
class WalletView:
    state: WalletState
    lots: list[Grant]
    debt: int


async def ensure_system_accounts(tx: Tx, unit: str) -> None:
    """Create the unit's system accounts once (fixed ids, so concurrent creators cannot clash)."""
    await insert_ignoring_conflicts(
        tx.conn,
        accounts,
        [
            {
                "id": system_account_id(kind, unit), "kind": kind, "customer_id": None, "wallet_id": None,
                "unit": unit, "posted": 0, "held": 0, "credit_limit": 0, "created_at": tx.now,
            }
            for kind in SYSTEM_KINDS
        ],
    )


async def open_wallet(
    tx: Tx, customer_id: str, unit: str, credit_limit: int = 0, *, low_balance_threshold: int | None = None
) -> WalletState:
    """`low_balance_threshold`: the low-balance alert the wallet starts with (CREDITFLOW_LOW_BALANCE_THRESHOLDS)."""
    existing = (
        await tx.conn.execute(
            select(wallets.c.id).where(wallets.c.customer_id == customer_id, wallets.c.unit == unit)
        )
    ).first()
    if existing is not None:
        raise WalletExists(f"the customer already has a wallet in {unit}", param="currency")
    await ensure_system_accounts(tx, unit)
    wallet_id = new_id("wal")
    overdraft_id = "ovd_" + wallet_id.removeprefix("wal_")
    await tx.conn.execute(
        accounts.insert().values(
            id=overdraft_id, kind=OVERDRAFT, customer_id=customer_id, wallet_id=wallet_id, unit=unit,
            posted=0, held=0, credit_limit=credit_limit, created_at=tx.now,
        )
    )
    await tx.conn.execute(
        wallets.insert().values(
            id=wallet_id, customer_id=customer_id, unit=unit, credit_limit=credit_limit, posted=0, held=0,
            overdraft_account_id=overdraft_id, next_expiry_at=None, created_at=tx.now, updated_at=tx.now,
        )
    )
    if low_balance_threshold is not None:
        await tx.conn.execute(
            balance_alerts.insert().values(
                wallet_id=wallet_id, customer_id=customer_id, threshold=low_balance_threshold, threshold_percent=None,
                low_armed=True, depleted_armed=True, updated_at=tx.now,
            )
        )
    wallet = await repository.lock_wallet(tx, wallet_id)
    assert wallet is not None
    return wallet


async def set_credit_limit(tx: Tx, customer_id: str, unit: str, credit_limit: int) -> WalletView:
    wallet_id = await _wallet_id(tx, customer_id, unit)
    wallet = await lock_and_sweep(tx, wallet_id)
    assert wallet is not None
    overdraft = await repository.overdraft_of(tx, wallet)
    in_use = max(overdraft.held - overdraft.posted, 0)
    if credit_limit < in_use:
        raise CreditLimitBelowUsage(
            "the wallet already uses more overdraft than this limit; grant credits first",
            param="credit_limit", details={"overdraft_in_use": money.format(in_use, unit), "currency": unit},
        )
    await tx.conn.execute(
        update(accounts).where(accounts.c.id == wallet.overdraft_account_id).values(credit_limit=credit_limit)
    )
    await tx.conn.execute(
        update(wallets).where(wallets.c.id == wallet.id).values(credit_limit=credit_limit, updated_at=tx.now)
    )
    return await view_wallet(tx, wallet.id)


async def _wallet_id(tx: Tx, customer_id: str, unit: str) -> str:
    row = (
        await tx.conn.execute(
            select(wallets.c.id).where(wallets.c.customer_id == customer_id, wallets.c.unit == unit)
        )
    ).first()
    if row is None:
        raise NotFound(f"the customer has no wallet in {unit}", param="currency")
    return row.id


async def view_wallet(tx: Tx, wallet_id: str) -> WalletView:
    wallet = await lock_and_sweep(tx, wallet_id)
    assert wallet is not None
    return WalletView(wallet, await lots_of_wallet(tx, wallet_id), await outstanding_debt(tx, wallet_id))


async def customer_wallets(tx: Tx, customer_id: str) -> list[WalletView]:
    ids = (
        await tx.conn.execute(
            select(wallets.c.id).where(wallets.c.customer_id == customer_id).order_by(wallets.c.id)
        )
    ).scalars().all()
    return [await view_wallet(tx, wallet_id) for wallet_id in ids]


async def wallet_for(tx: Tx, customer_id: str, unit: str) -> WalletView:
    return await view_wallet(tx, await _wallet_id(tx, customer_id, unit))
