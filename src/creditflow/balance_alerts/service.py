"""Low-balance alerts per wallet: a threshold (an amount, or a percentage of the customer's last top-up in the
wallet's unit). The job runner compares balances with it (checks.py); this module keeps the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, desc, func, select

from creditflow.db.dialect import insert_or_add
from creditflow.db.tables import balance_alerts, topups
from creditflow.db.tx import Tx
from creditflow.errors import NotFound
from creditflow.ledger.models import WalletState
from creditflow.ledger.repository import lock_wallet
from creditflow.wallets.lookup import resolve_wallet


@dataclass(frozen=True, slots=True)
class BalanceAlert:
    wallet: WalletState
    threshold: int | None
    threshold_percent: int | None
    effective_threshold: int | None
    """The amount compared with the balance now (a percentage needs a paid top-up to be one)."""
    low: bool
    """Fired, and not re-armed yet: the balance is below the threshold."""
    depleted: bool


async def set_alert(
    tx: Tx, customer: str, unit: str, *, threshold: int | None, threshold_percent: int | None
) -> BalanceAlert:
    ref = await resolve_wallet(tx, customer, unit)
    values = {"wallet_id": ref.wallet_id, "customer_id": ref.customer_id, "threshold": threshold,
              "threshold_percent": threshold_percent, "low_armed": True, "depleted_armed": True, "updated_at": tx.now}
    # A new threshold starts armed: the next check fires if the balance is already below it.
    await insert_or_add(tx.conn, balance_alerts, [values], key=["wallet_id"], add=[])
    return await get_alert(tx, customer, unit)


async def get_alert(tx: Tx, customer: str, unit: str) -> BalanceAlert:
    ref = await resolve_wallet(tx, customer, unit)
    row = (await tx.conn.execute(select(balance_alerts).where(balance_alerts.c.wallet_id == ref.wallet_id))).first()
    if row is None:
        raise NotFound(f"the wallet in {ref.unit} has no low-balance alert", param="currency")
    wallet = await lock_wallet(tx, ref.wallet_id)
    assert wallet is not None
    effective = await effective_threshold(tx, wallet, row.threshold, row.threshold_percent)
    return BalanceAlert(wallet, row.threshold, row.threshold_percent, effective, not row.low_armed,
                        not row.depleted_armed)


async def delete_alert(tx: Tx, customer: str, unit: str) -> None:
    await get_alert(tx, customer, unit)
    ref = await resolve_wallet(tx, customer, unit)
    await tx.conn.execute(delete(balance_alerts).where(balance_alerts.c.wallet_id == ref.wallet_id))


async def effective_threshold(tx: Tx, wallet: WalletState, threshold: int | None, percent: int | None) -> int | None:
    if threshold is not None:
        return threshold
    assert percent is not None
    last = (
        await tx.conn.execute(
            select(topups.c.credits + func.coalesce(topups.c.bonus_credits, 0))
            .where(topups.c.customer_id == wallet.customer_id, topups.c.credit_unit == wallet.unit,
                   topups.c.paid_at.is_not(None))
            .order_by(desc(topups.c.paid_at), desc(topups.c.id))
            .limit(1)
        )
    ).scalar_one_or_none()
    return None if last is None else last * percent // 100
