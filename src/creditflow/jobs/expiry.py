"""The periodic expiry sweep: applies due expiry to wallets nobody has touched lately."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.db.tables import wallets
from creditflow.db.tx import Tx
from creditflow.http.idempotency import purge_expired
from creditflow.ledger.expiry import EXPIRY_ACTOR, sweep_wallet
from creditflow.ledger.repository import wallet_from_row

BATCH = 200


async def sweep_due_wallets(engine: AsyncEngine, now: datetime) -> int:
    """Sweep every wallet whose next expiry is due, one short transaction each. Returns how many.

    Safe with several runners: a wallet locked by another runner (or a request) is skipped, and the
    sweep itself only acts on rows still active.
    """
    swept = 0
    async with engine.connect() as conn:
        due = (
            await conn.execute(
                select(wallets.c.id).where(wallets.c.next_expiry_at <= now).order_by(wallets.c.id).limit(BATCH)
            )
        ).scalars().all()
        await conn.rollback()
    for wallet_id in due:
        async with engine.begin() as conn:
            row = (
                await conn.execute(
                    select(
                        wallets.c.id, wallets.c.customer_id, wallets.c.unit, wallets.c.credit_limit,
                        wallets.c.posted, wallets.c.held, wallets.c.overdraft_account_id, wallets.c.next_expiry_at,
                        wallets.c.budgeted,
                    )
                    .where(wallets.c.id == wallet_id, wallets.c.next_expiry_at <= now)
                    .with_for_update(skip_locked=True)
                )
            ).first()
            if row is not None:
                await sweep_wallet(Tx(conn=conn, now=now, actor=EXPIRY_ACTOR), wallet_from_row(row))
                swept += 1
    return swept


async def purge_idempotency_keys(engine: AsyncEngine, now: datetime) -> int:
    async with engine.begin() as conn:
        return await purge_expired(conn, now)
