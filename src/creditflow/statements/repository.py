"""Statement queries: a wallet's balance at an instant and its movements over a range, from the transfers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, or_, select

from creditflow.db.dialect import exact_sum, exact_total
from creditflow.db.tables import accounts, credit_grants, events, metrics, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.ledger.models import LOT, OVERDRAFT


async def customer_wallets(tx: Tx, customer_id: str) -> list[tuple[str, str]]:
    """(wallet id, unit) of each of the customer's wallets."""
    rows = await tx.conn.execute(
        select(wallets.c.id, wallets.c.unit).where(wallets.c.customer_id == customer_id).order_by(wallets.c.unit)
    )
    return [(row.id, row.unit) for row in rows]


async def wallet_accounts(tx: Tx, wallet_id: str) -> list[str]:
    """The accounts whose sum is the wallet's balance: its lots and its overdraft account (debt stays outside)."""
    rows = await tx.conn.execute(
        select(accounts.c.id).where(accounts.c.wallet_id == wallet_id, accounts.c.kind.in_([LOT, OVERDRAFT]))
    )
    return list(rows.scalars().all())


def _signed(ids: list[str]):
    # A transfer between two of the wallet's own accounts adds and takes the same amount: it nets to zero.
    return case((transfers.c.credit_account_id.in_(ids), transfers.c.amount), else_=0) - case(
        (transfers.c.debit_account_id.in_(ids), transfers.c.amount), else_=0
    )


def _touching(ids: list[str]):
    return or_(transfers.c.credit_account_id.in_(ids), transfers.c.debit_account_id.in_(ids))


async def balance_at(tx: Tx, ids: list[str], moment: datetime) -> int:
    if not ids:
        return 0
    # Summed without overflow (db.dialect.exact_sum): a wallet's credits over its life can pass 64 bits.
    high, low = (
        await tx.conn.execute(select(*exact_sum(_signed(ids))).where(_touching(ids), transfers.c.created_at < moment))
    ).one()
    return exact_total(high, low)


async def movements(tx: Tx, ids: list[str], start: datetime, end: datetime) -> list[tuple[str, str | None, int]]:
    """(transfer kind, source of the grant credited, net amount into the wallet) over [start, end)."""
    if not ids:
        return []
    rows = await tx.conn.execute(
        select(transfers.c.kind, credit_grants.c.source, *exact_sum(_signed(ids)))
        .select_from(transfers.outerjoin(credit_grants, credit_grants.c.id == transfers.c.credit_account_id))
        .where(_touching(ids), transfers.c.created_at >= start, transfers.c.created_at < end)
        .group_by(transfers.c.kind, credit_grants.c.source)
    )
    return [(kind, source, exact_total(high, low)) for kind, source, high, low in rows]


async def usage_by_metric(tx: Tx, customer_id: str, start: datetime, end: datetime) -> list[tuple[str, str, int, int]]:
    """(metric code, currency, events, cost net of refunds) of the customer's charged events over [start, end)."""
    rows = await tx.conn.execute(
        select(metrics.c.code, events.c.currency, func.count().label("events"),
               func.sum(events.c.cost - events.c.refunded).label("cost"))
        .select_from(events.join(metrics, metrics.c.id == events.c.metric_id))
        .where(and_(events.c.customer_id == customer_id, events.c.timestamp >= start, events.c.timestamp < end,
                    events.c.currency.is_not(None)))
        .group_by(metrics.c.code, events.c.currency)
        .order_by(metrics.c.code, events.c.currency)
    )
    return [(row.code, row.currency, int(row.events), int(row.cost)) for row in rows]
