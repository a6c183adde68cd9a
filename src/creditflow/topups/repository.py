"""Top-up queries: rows in and out. Rules live in service.py, apply.py and refunds.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from creditflow.db.pagination import newest_first
from creditflow.db.tables import topup_credits, topup_packages, topup_refunds, topups, webhook_inbox
from creditflow.db.tx import Tx
from creditflow.topups.models import Credit, Package, Refund, Topup

_TOPUP_QUERY = select(
    topups, topup_credits.c.paid_grant_id, topup_credits.c.bonus_grant_id, topup_credits.c.invoice_id
).select_from(topups.outerjoin(topup_credits, topup_credits.c.topup_id == topups.c.id))


def _topup_from_row(row: Any) -> Topup:
    values = {column.name: row._mapping[column.name] for column in topups.c}
    credit = None
    if row.paid_grant_id is not None:
        credit = Credit(paid_grant_id=row.paid_grant_id, bonus_grant_id=row.bonus_grant_id, invoice_id=row.invoice_id)
    return Topup(**values, credit=credit)


async def insert_topup(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(
        topups.insert().values(
            **values, amount_refunded=0, disputed_debt=0, created_at=tx.now, updated_at=tx.now,
        )
    )


async def load_topup(tx: Tx, topup_id: str, *, for_update: bool = False) -> Topup | None:
    """The top-up; `for_update` locks its row (PostgreSQL; SQLite's writer already holds the database)."""
    if for_update:
        # Lock first, then read: a read that waited for the lock sees the credit the other transaction wrote.
        await tx.conn.execute(select(topups.c.id).where(topups.c.id == topup_id).with_for_update())
    row = (await tx.conn.execute(_TOPUP_QUERY.where(topups.c.id == topup_id))).first()
    return _topup_from_row(row) if row else None


async def load_by_charge_key(tx: Tx, customer_id: str, charge_key: str) -> Topup | None:
    """The customer's off-session charge made under this idempotency key, if any."""
    query = _TOPUP_QUERY.where(topups.c.customer_id == customer_id, topups.c.charge_key == charge_key)
    row = (await tx.conn.execute(query)).first()
    return _topup_from_row(row) if row else None


async def list_topups(
    tx: Tx, *, customer_id: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Topup]:
    query = newest_first(_TOPUP_QUERY, topups.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(topups.c.customer_id == customer_id)
    if status is not None:
        query = query.where(topups.c.status == status)
    return [_topup_from_row(row) for row in (await tx.conn.execute(query)).all()]


async def update_topup(tx: Tx, topup_id: str, **values: Any) -> None:
    await tx.conn.execute(update(topups).where(topups.c.id == topup_id).values(**values, updated_at=tx.now))


async def move_status(tx: Tx, topup_id: str, *, allowed: Sequence[str], **values: Any) -> bool:
    """Change the row only if its status is still one of `allowed`: statuses move forward, never back."""
    result = await tx.conn.execute(
        update(topups).where(topups.c.id == topup_id, topups.c.status.in_(allowed)).values(**values, updated_at=tx.now)
    )
    return result.rowcount == 1


async def insert_credit(tx: Tx, topup_id: str, credit: Credit, source: str) -> None:
    await tx.conn.execute(
        topup_credits.insert().values(
            topup_id=topup_id, paid_grant_id=credit.paid_grant_id, bonus_grant_id=credit.bonus_grant_id,
            invoice_id=credit.invoice_id, source=source[:300], created_at=tx.now,
        )
    )


async def due_for_reconciliation(tx: Tx, *, checked_before: datetime, limit: int) -> list[str]:
    """Pending top-ups created, and last checked, before `checked_before`: oldest first."""
    query = (
        select(topups.c.id)
        .where(
            topups.c.status == "pending",
            topups.c.created_at <= checked_before,
            or_(topups.c.checked_at.is_(None), topups.c.checked_at <= checked_before),
        )
        .order_by(topups.c.id)
        .limit(limit)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def due_for_expiry(tx: Tx, *, limit: int) -> list[str]:
    query = (
        select(topups.c.id)
        .where(topups.c.status == "pending", topups.c.expires_at <= tx.now)
        .order_by(topups.c.expires_at, topups.c.id)
        .limit(limit)
    )
    return list((await tx.conn.execute(query)).scalars().all())


# --- the webhook inbox -------------------------------------------------------------------------------


async def record_event(tx: Tx, *, gateway: str, event_key: str, event_type: str, topup_id: str | None) -> bool:
    """Insert the event into the inbox; False if it was already there (a redelivery or a concurrent twin)."""
    module = postgresql if tx.conn.dialect.name == "postgresql" else sqlite
    statement = module.insert(webhook_inbox).on_conflict_do_nothing().values(
        gateway=gateway, event_key=event_key, event_type=event_type[:100], topup_id=topup_id, outcome="received",
        received_at=tx.now,
    )
    return (await tx.conn.execute(statement)).rowcount == 1


async def event_seen(tx: Tx, *, gateway: str, event_key: str) -> bool:
    query = select(webhook_inbox.c.outcome).where(
        webhook_inbox.c.gateway == gateway, webhook_inbox.c.event_key == event_key
    )
    return (await tx.conn.execute(query)).first() is not None


async def set_event_outcome(tx: Tx, *, gateway: str, event_key: str, outcome: str) -> None:
    await tx.conn.execute(
        update(webhook_inbox)
        .where(webhook_inbox.c.gateway == gateway, webhook_inbox.c.event_key == event_key)
        .values(outcome=outcome)
    )


# --- packages ------------------------------------------------------------------------------------------


def _package_from_row(row: Any) -> Package:
    return Package(**{column.name: row._mapping[column.name] for column in topup_packages.c})


async def insert_package(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(topup_packages.insert().values(**values, status="active", created_at=tx.now))


async def load_package(tx: Tx, package_id: str) -> Package | None:
    row = (await tx.conn.execute(select(topup_packages).where(topup_packages.c.id == package_id))).first()
    return _package_from_row(row) if row else None


async def list_packages(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Package]:
    query = newest_first(select(topup_packages), topup_packages.c.id, limit=limit, starting_after=starting_after)
    if status is not None:
        query = query.where(topup_packages.c.status == status)
    return [_package_from_row(row) for row in (await tx.conn.execute(query)).all()]


async def archive_package(tx: Tx, package_id: str) -> None:
    await tx.conn.execute(
        update(topup_packages)
        .where(topup_packages.c.id == package_id, topup_packages.c.status == "active")
        .values(status="archived", archived_at=tx.now)
    )


# --- refunds -------------------------------------------------------------------------------------------


def _refund_from_row(row: Any) -> Refund:
    return Refund(**{column.name: row._mapping[column.name] for column in topup_refunds.c})


async def insert_refund(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(topup_refunds.insert().values(**values, created_at=tx.now, updated_at=tx.now))


async def load_refund(tx: Tx, refund_id: str) -> Refund | None:
    row = (await tx.conn.execute(select(topup_refunds).where(topup_refunds.c.id == refund_id))).first()
    return _refund_from_row(row) if row else None


async def refunds_of(tx: Tx, topup_id: str) -> list[Refund]:
    query = select(topup_refunds).where(topup_refunds.c.topup_id == topup_id).order_by(topup_refunds.c.id)
    return [_refund_from_row(row) for row in (await tx.conn.execute(query)).all()]


async def stale_pending_refunds(tx: Tx, *, untouched_since: datetime, limit: int) -> list[str]:
    """Refunds still pending (their request was cut off, or the gateway was down) and not retried lately."""
    query = (
        select(topup_refunds.c.id)
        .where(topup_refunds.c.status == "pending", topup_refunds.c.updated_at < untouched_since)
        .order_by(topup_refunds.c.updated_at)
        .limit(limit)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def update_refund(tx: Tx, refund_id: str, **values: Any) -> None:
    await tx.conn.execute(
        update(topup_refunds).where(topup_refunds.c.id == refund_id).values(**values, updated_at=tx.now)
    )


async def refunds_in_progress_or_done(tx: Tx, topup_id: str) -> int:
    """Money refunded through creditflow, or being refunded now: what gateway refund reports are checked against."""
    query = select(func.coalesce(func.sum(topup_refunds.c.amount), 0)).where(
        topup_refunds.c.topup_id == topup_id, topup_refunds.c.status.in_(("pending", "refunded", "manual"))
    )
    return int((await tx.conn.execute(query)).scalar_one())
