"""Plan and subscription queries: rows in and out. Rules live in plans.py, service.py and renewals.py."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from creditflow.db.pagination import newest_first
from creditflow.db.tables import plans, subscription_charges, subscriptions
from creditflow.db.tx import Tx
from creditflow.subscriptions.models import LIVE, Plan, Subscription


def _plan(row: Any) -> Plan:
    return Plan(**{column.name: row._mapping[column.name] for column in plans.c})


def _subscription(row: Any) -> Subscription:
    return Subscription(**{column.name: row._mapping[column.name] for column in subscriptions.c})


async def insert_plan(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(plans.insert().values(**values, status="active", created_at=tx.now))


async def load_plan(tx: Tx, plan_id: str) -> Plan | None:
    row = (await tx.conn.execute(select(plans).where(plans.c.id == plan_id))).first()
    return _plan(row) if row else None


async def load_plan_by_code(tx: Tx, code: str) -> Plan | None:
    row = (await tx.conn.execute(select(plans).where(plans.c.code == code))).first()
    return _plan(row) if row else None


async def list_plans(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Plan]:
    query = newest_first(select(plans), plans.c.id, limit=limit, starting_after=starting_after)
    if status is not None:
        query = query.where(plans.c.status == status)
    return [_plan(row) for row in (await tx.conn.execute(query)).all()]


async def archive_plan(tx: Tx, plan_id: str) -> None:
    await tx.conn.execute(
        update(plans).where(plans.c.id == plan_id, plans.c.status == "active").values(status="archived",
                                                                                     archived_at=tx.now)
    )


async def insert_subscription(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(subscriptions.insert().values(**values, created_at=tx.now, updated_at=tx.now))


async def load_subscription(tx: Tx, subscription_id: str, *, for_update: bool = False) -> Subscription | None:
    """The subscription; `for_update` locks its row first (PostgreSQL; SQLite's writer holds the database)."""
    if for_update:
        await tx.conn.execute(
            select(subscriptions.c.id).where(subscriptions.c.id == subscription_id).with_for_update()
        )
    row = (await tx.conn.execute(select(subscriptions).where(subscriptions.c.id == subscription_id))).first()
    return _subscription(row) if row else None


async def list_subscriptions(
    tx: Tx, *, customer_id: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Subscription]:
    query = newest_first(select(subscriptions), subscriptions.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(subscriptions.c.customer_id == customer_id)
    if status is not None:
        query = query.where(subscriptions.c.status == status)
    return [_subscription(row) for row in (await tx.conn.execute(query)).all()]


async def update_subscription(tx: Tx, subscription_id: str, **values: Any) -> None:
    await tx.conn.execute(
        update(subscriptions).where(subscriptions.c.id == subscription_id).values(**values, updated_at=tx.now)
    )


async def due_subscriptions(tx: Tx, *, now: datetime, limit: int) -> list[str]:
    """Live subscriptions whose period has ended or whose retry is due, oldest first."""
    query = (
        select(subscriptions.c.id)
        .where(subscriptions.c.next_attempt_at <= now, subscriptions.c.status.in_(LIVE))
        .order_by(subscriptions.c.next_attempt_at, subscriptions.c.id)
        .limit(limit)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def unpaid_of_customer(tx: Tx, customer_id: str, statuses: tuple[str, ...]) -> list[str]:
    query = (
        select(subscriptions.c.id)
        .where(subscriptions.c.customer_id == customer_id, subscriptions.c.status.in_(statuses))
        .order_by(subscriptions.c.id)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def charge_exists(tx: Tx, subscription_id: str, period_start: datetime, kind: str, plan_id: str) -> bool:
    row = (
        await tx.conn.execute(
            select(subscription_charges.c.id).where(
                subscription_charges.c.subscription_id == subscription_id,
                subscription_charges.c.period_start == period_start,
                subscription_charges.c.kind == kind,
                subscription_charges.c.plan_id == plan_id,
            )
        )
    ).first()
    return row is not None


async def insert_charge(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(subscription_charges.insert().values(**values, created_at=tx.now))
