"""The low-balance check, run by the job runner: one wallet.low_balance event and one email per crossing
below the threshold (not one per debit), re-armed when the balance climbs back to it or above; likewise
wallet.depleted when nothing is left. Checking on a schedule keeps the spend path free of it; a balance that
dips and recovers between two passes raises nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow import money
from creditflow.balance_alerts.service import effective_threshold
from creditflow.db.tables import balance_alerts
from creditflow.db.tx import Tx
from creditflow.ledger.repository import lock_wallet
from creditflow.mail import messages
from creditflow.mail.outbox import queue_for_customer
from creditflow.webhooks.outbox import emit

ACTOR = "system:balance_alerts"


async def check_balances(engine: AsyncEngine, now: datetime) -> int:
    """Compare every alerting wallet with its threshold; returns how many alerts fired."""
    async with engine.connect() as conn:
        wallet_ids = (await conn.execute(select(balance_alerts.c.wallet_id))).scalars().all()
        await conn.rollback()
    fired = 0
    for wallet_id in wallet_ids:
        async with engine.begin() as conn:
            fired += await _check(Tx(conn=conn, now=now, actor=ACTOR), wallet_id)
    return fired


async def _check(tx: Tx, wallet_id: str) -> int:
    alert = (
        await tx.conn.execute(select(balance_alerts).where(balance_alerts.c.wallet_id == wallet_id).with_for_update())
    ).first()
    if alert is None:
        return 0
    wallet = await lock_wallet(tx, wallet_id)
    assert wallet is not None
    available = wallet.available
    threshold = await effective_threshold(tx, wallet, alert.threshold, alert.threshold_percent)
    changes: dict[str, bool] = {}
    fired = 0
    data = {"customer": wallet.customer_id, "wallet": wallet.id, "currency": wallet.unit,
            "available": money.format(available, wallet.unit)}
    if threshold is not None:
        if available < threshold and alert.low_armed:
            changes["low_armed"] = False
            await emit(tx, "wallet.low_balance", {**data, "threshold": money.format(threshold, wallet.unit)})
            await queue_for_customer(tx, wallet.customer_id, messages.low_balance(available, threshold, wallet.unit))
            fired += 1
        elif available >= threshold and not alert.low_armed:
            changes["low_armed"] = True
    if available <= 0 and alert.depleted_armed:
        changes["depleted_armed"] = False
        await emit(tx, "wallet.depleted", data)
        await queue_for_customer(tx, wallet.customer_id, messages.depleted(available, wallet.unit))
        fired += 1
    elif available > 0 and not alert.depleted_armed:
        changes["depleted_armed"] = True
    if changes:
        await tx.conn.execute(
            update(balance_alerts).where(balance_alerts.c.wallet_id == wallet_id).values(**changes, updated_at=tx.now)
        )
    return fired
