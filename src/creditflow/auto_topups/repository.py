"""SQL for auto top-up settings and attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from creditflow.auto_topups.models import PENDING, SUCCEEDED, Attempt, AutoTopup
from creditflow.db.pagination import newest_first
from creditflow.db.tables import auto_topup_attempts, auto_topups, payment_methods, wallets
from creditflow.db.tx import Tx

_SETTINGS = select(auto_topups, wallets.c.unit).select_from(
    auto_topups.join(wallets, wallets.c.id == auto_topups.c.wallet_id)
)


def _settings(row: Any) -> AutoTopup:
    return AutoTopup(
        wallet_id=row.wallet_id, customer_id=row.customer_id, unit=row.unit, currency=row.currency,
        threshold=row.threshold, amount=row.amount, target_balance=row.target_balance, max_per_day=row.max_per_day,
        payment_method_id=row.payment_method_id, link_gateway=row.link_gateway, failures=row.failures,
        retry_at=row.retry_at, created_at=row.created_at, updated_at=row.updated_at,
    )


def _attempt(row: Any) -> Attempt:
    return Attempt(
        id=row.id, wallet_id=row.wallet_id, customer_id=row.customer_id, kind=row.kind, status=row.status,
        currency=row.currency, amount=row.amount, payment_method_id=row.payment_method_id, topup_id=row.topup_id,
        failure_reason=row.failure_reason, created_at=row.created_at, finished_at=row.finished_at,
    )


async def load(tx: Tx, wallet_id: str, *, for_update: bool = False) -> AutoTopup | None:
    query = _SETTINGS.where(auto_topups.c.wallet_id == wallet_id)
    if for_update:
        query = query.with_for_update(of=auto_topups)
    row = (await tx.conn.execute(query)).first()
    return None if row is None else _settings(row)


async def save(tx: Tx, values: dict[str, Any], *, exists: bool) -> None:
    """Insert or replace a wallet's settings (the caller holds the wallet's lock); a change starts afresh: no
    failures counted, no backoff."""
    row = {**values, "failures": 0, "retry_at": None, "updated_at": tx.now}
    if exists:
        changed = {k: v for k, v in row.items() if k != "wallet_id"}
        await tx.conn.execute(update(auto_topups).where(auto_topups.c.wallet_id == values["wallet_id"]).values(changed))
    else:
        await tx.conn.execute(auto_topups.insert().values(created_at=tx.now, **row))


async def remove(tx: Tx, wallet_id: str) -> None:
    await tx.conn.execute(delete(auto_topups).where(auto_topups.c.wallet_id == wallet_id))


async def record_outcome(tx: Tx, wallet_id: str, *, failures: int, retry_at: datetime | None) -> None:
    await tx.conn.execute(
        update(auto_topups)
        .where(auto_topups.c.wallet_id == wallet_id)
        .values(failures=failures, retry_at=retry_at, updated_at=tx.now)
    )


async def due_wallet_ids(tx: Tx, now: datetime) -> list[str]:
    """Wallets whose available balance is below their threshold and that are not backing off; each is
    checked again under its locks before anything is done."""
    available = wallets.c.posted - wallets.c.held + wallets.c.credit_limit
    query = (
        select(auto_topups.c.wallet_id)
        .select_from(auto_topups.join(wallets, wallets.c.id == auto_topups.c.wallet_id))
        .where(available < auto_topups.c.threshold)
        .where((auto_topups.c.retry_at.is_(None)) | (auto_topups.c.retry_at <= now))
        .order_by(auto_topups.c.wallet_id)
    )
    return list((await tx.conn.execute(query)).scalars().all())


async def pending_attempt_ids(tx: Tx) -> list[str]:
    query = select(auto_topup_attempts.c.id).where(auto_topup_attempts.c.status == PENDING)
    return list((await tx.conn.execute(query.order_by(auto_topup_attempts.c.id))).scalars().all())


async def has_pending(tx: Tx, wallet_id: str) -> bool:
    query = select(auto_topup_attempts.c.id).where(
        auto_topup_attempts.c.wallet_id == wallet_id, auto_topup_attempts.c.status == PENDING
    )
    return (await tx.conn.execute(query.limit(1))).first() is not None


async def count_since(tx: Tx, wallet_id: str, since: datetime) -> int:
    """Attempts that took, or may yet take, money since `since`: a failed one took none."""
    query = select(func.count()).where(
        auto_topup_attempts.c.wallet_id == wallet_id,
        auto_topup_attempts.c.created_at > since,
        auto_topup_attempts.c.status.in_((PENDING, SUCCEEDED)),
    )
    return int((await tx.conn.execute(query)).scalar_one())


async def insert_attempt(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(auto_topup_attempts.insert().values(created_at=tx.now, finished_at=None, **values))


async def load_attempt(tx: Tx, attempt_id: str, *, for_update: bool = False) -> Attempt | None:
    query = select(auto_topup_attempts).where(auto_topup_attempts.c.id == attempt_id)
    if for_update:
        query = query.with_for_update()
    row = (await tx.conn.execute(query)).first()
    return None if row is None else _attempt(row)


async def update_attempt(tx: Tx, attempt_id: str, **values: Any) -> None:
    await tx.conn.execute(update(auto_topup_attempts).where(auto_topup_attempts.c.id == attempt_id).values(**values))


async def list_attempts(tx: Tx, wallet_id: str, *, limit: int, starting_after: str | None) -> list[Attempt]:
    query = newest_first(
        select(auto_topup_attempts), auto_topup_attempts.c.id, limit=limit, starting_after=starting_after
    ).where(auto_topup_attempts.c.wallet_id == wallet_id)
    return [_attempt(row) for row in (await tx.conn.execute(query)).all()]


async def default_method_id(tx: Tx, customer_id: str) -> str | None:
    query = select(payment_methods.c.id).where(
        payment_methods.c.customer_id == customer_id,
        payment_methods.c.is_default.is_(True),
        payment_methods.c.status == "active",
    )
    return (await tx.conn.execute(query)).scalar_one_or_none()
