"""Payment method queries: rows in and out. Rules live in saving.py and service.py."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from creditflow.db.pagination import newest_first
from creditflow.db.tables import payment_methods
from creditflow.db.tx import Tx
from creditflow.payment_methods.models import ACTIVE, DETACHED, PaymentMethod


def _from_row(row: Any) -> PaymentMethod:
    return PaymentMethod(**{column.name: row._mapping[column.name] for column in payment_methods.c})


async def insert_once(tx: Tx, **values: Any) -> bool:
    """Insert the method unless the gateway's method is recorded already; True if this call inserted it."""
    module = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    # Only the (gateway, gateway_method) conflict means "recorded already": a second default must still fail.
    statement = module.insert(payment_methods).on_conflict_do_nothing(
        index_elements=[payment_methods.c.gateway, payment_methods.c.gateway_method]
    ).values(**values, status=ACTIVE, created_at=tx.now)
    return (await tx.conn.execute(statement)).rowcount == 1


async def load(tx: Tx, customer_id: str, method_id: str, *, for_update: bool = False) -> PaymentMethod | None:
    """The customer's method: another customer's is not found, as if it did not exist."""
    query = select(payment_methods).where(
        payment_methods.c.id == method_id, payment_methods.c.customer_id == customer_id
    )
    if for_update:
        query = query.with_for_update()
    row = (await tx.conn.execute(query)).first()
    return _from_row(row) if row else None


async def load_by_gateway_method(tx: Tx, gateway: str, gateway_method: str) -> PaymentMethod | None:
    query = select(payment_methods).where(
        payment_methods.c.gateway == gateway, payment_methods.c.gateway_method == gateway_method
    )
    row = (await tx.conn.execute(query)).first()
    return _from_row(row) if row else None


async def list_for_customer(
    tx: Tx, customer_id: str, *, include_detached: bool, limit: int, starting_after: str | None
) -> list[PaymentMethod]:
    query = newest_first(
        select(payment_methods).where(payment_methods.c.customer_id == customer_id), payment_methods.c.id,
        limit=limit, starting_after=starting_after,
    )
    if not include_detached:
        query = query.where(payment_methods.c.status == ACTIVE)
    return [_from_row(row) for row in (await tx.conn.execute(query)).all()]


async def has_default(tx: Tx, customer_id: str) -> bool:
    query = select(payment_methods.c.id).where(
        payment_methods.c.customer_id == customer_id, payment_methods.c.is_default.is_(True)
    )
    return (await tx.conn.execute(query)).first() is not None


async def gateway_customer(tx: Tx, customer_id: str, gateway: str) -> str | None:
    """The gateway's customer of this customer's newest saved method, detached or not (the customer outlives
    its cards)."""
    query = (
        select(payment_methods.c.gateway_customer)
        .where(payment_methods.c.customer_id == customer_id, payment_methods.c.gateway == gateway)
        .order_by(payment_methods.c.created_at.desc(), payment_methods.c.id.desc())
        .limit(1)
    )
    return (await tx.conn.execute(query)).scalar()


async def lock_customer_methods(tx: Tx, customer_id: str) -> None:
    """Lock the customer's methods (PostgreSQL; SQLite's writer holds the database already), so moves of the
    default made at once take turns and each statement after this sees the one before it."""
    await tx.conn.execute(
        select(payment_methods.c.id).where(payment_methods.c.customer_id == customer_id).with_for_update()
    )


async def make_default(tx: Tx, customer_id: str, method_id: str) -> None:
    """Move the default (the caller holds lock_customer_methods). Two statements: PostgreSQL checks the one-default
    index row by row, so the old default is cleared before the new one is set."""
    await tx.conn.execute(
        update(payment_methods)
        .where(payment_methods.c.customer_id == customer_id, payment_methods.c.is_default.is_(True),
               payment_methods.c.id != method_id)
        .values(is_default=False)
    )
    await tx.conn.execute(update(payment_methods).where(payment_methods.c.id == method_id).values(is_default=True))


async def mark_detached(tx: Tx, method_id: str) -> bool:
    """Detach an active method (it stops being the default); False if it was detached already."""
    result = await tx.conn.execute(
        update(payment_methods)
        .where(payment_methods.c.id == method_id, payment_methods.c.status == ACTIVE)
        .values(status=DETACHED, is_default=False, detached_at=tx.now)
    )
    return result.rowcount == 1


async def newest_active(tx: Tx, customer_id: str) -> str | None:
    query = (
        select(payment_methods.c.id)
        .where(payment_methods.c.customer_id == customer_id, payment_methods.c.status == ACTIVE)
        .order_by(payment_methods.c.created_at.desc(), payment_methods.c.id.desc())
        .limit(1)
    )
    return (await tx.conn.execute(query)).scalar()
