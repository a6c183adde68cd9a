"""SQL for the Lago API's own rows (lago_wallets, lago_wallet_transactions, lago_subscriptions) and the few
reads it makes of the engine's tables by Lago's keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from creditflow.db.tables import customers, events, invoices, lago_subscriptions, lago_wallet_transactions, lago_wallets
from creditflow.db.tx import Tx


async def insert_wallet(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(lago_wallets.insert().values(**values, created_at=tx.now, updated_at=tx.now))


async def load_wallet(tx: Tx, lago_id: str) -> Any:
    return (await tx.conn.execute(select(lago_wallets).where(lago_wallets.c.id == lago_id))).first()


async def wallet_of(tx: Tx, wallet_id: str) -> Any:
    """The Lago wallet over a creditflow wallet, if one was opened."""
    return (await tx.conn.execute(select(lago_wallets).where(lago_wallets.c.wallet_id == wallet_id))).first()


async def wallets_of_customer(tx: Tx, customer_id: str, *, limit: int, offset: int) -> tuple[list[Any], int]:
    query = select(lago_wallets).where(lago_wallets.c.customer_id == customer_id)
    return await _page(tx, query, lago_wallets.c.id, limit, offset)


async def terminate_wallet(tx: Tx, lago_id: str) -> None:
    await tx.conn.execute(
        update(lago_wallets).where(lago_wallets.c.id == lago_id)
        .values(status="terminated", terminated_at=tx.now, updated_at=tx.now)
    )


async def insert_transaction(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(lago_wallet_transactions.insert().values(**values, created_at=tx.now))


async def load_transaction(tx: Tx, lago_id: str) -> Any:
    table = lago_wallet_transactions
    return (await tx.conn.execute(select(table).where(table.c.id == lago_id))).first()


async def transaction_of_invoice(tx: Tx, invoice_id: str) -> Any:
    table = lago_wallet_transactions
    return (await tx.conn.execute(select(table).where(table.c.invoice_id == invoice_id))).first()


async def settle_transaction(tx: Tx, lago_id: str, status: str, grant_id: str | None) -> bool:
    """Move a pending transaction to `status`; False if it was not pending (it settles once)."""
    table = lago_wallet_transactions
    result = await tx.conn.execute(
        update(table).where(table.c.id == lago_id, table.c.status == "pending")
        .values(status=status, grant_id=grant_id, settled_at=tx.now)
    )
    return result.rowcount == 1


async def transactions_of_wallet(tx: Tx, lago_wallet_id: str, *, limit: int, offset: int) -> tuple[list[Any], int]:
    table = lago_wallet_transactions
    return await _page(tx, select(table).where(table.c.lago_wallet_id == lago_wallet_id), table.c.id,
                       limit, offset)


async def insert_subscription(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(lago_subscriptions.insert().values(**values, created_at=tx.now))


async def load_subscription(tx: Tx, external_id: str) -> Any:
    table = lago_subscriptions
    return (await tx.conn.execute(select(table).where(table.c.external_id == external_id))).first()


async def external_id_of(tx: Tx, subscription_id: str) -> Any:
    table = lago_subscriptions
    return (await tx.conn.execute(select(table).where(table.c.subscription_id == subscription_id))).first()


async def subscriptions_of_customer(tx: Tx, customer_id: str, *, limit: int, offset: int) -> tuple[list[Any], int]:
    table = lago_subscriptions
    query = select(table).where(table.c.customer_id == customer_id)
    return await _page(tx, query, table.c.subscription_id, limit, offset)


async def events_ending_with(tx: Tx, suffix: str) -> list[Any]:
    """Events whose stored transaction_id ends with `suffix` (a Lago transaction_id under any subscription)."""
    query = select(events).where(events.c.transaction_id.endswith(suffix, autoescape=True)).order_by(events.c.id)
    return list((await tx.conn.execute(query)).all())


async def customer_ids(tx: Tx, *, limit: int, offset: int) -> tuple[list[str], int]:
    rows, total = await _page(tx, select(customers.c.id), customers.c.id, limit, offset)
    return [row.id for row in rows], total


async def invoice_ids(tx: Tx, customer_id: str | None, *, limit: int, offset: int) -> tuple[list[str], int]:
    """Issued invoices (drafts are nobody's business yet), oldest first."""
    query = select(invoices.c.id).where(invoices.c.status != "draft")
    if customer_id is not None:
        query = query.where(invoices.c.customer_id == customer_id)
    rows, total = await _page(tx, query, invoices.c.id, limit, offset)
    return [row.id for row in rows], total


async def _page(tx: Tx, query: Any, order: Any, limit: int, offset: int) -> tuple[list[Any], int]:
    """Lago pages by number: one page of rows, oldest first, and the count of all of them. `order` is an id
    column: creditflow ids are time-ordered, so this is creation order even within one clock instant."""
    total = (await tx.conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (await tx.conn.execute(query.order_by(order).limit(limit).offset(offset))).all()
    return list(rows), int(total)
