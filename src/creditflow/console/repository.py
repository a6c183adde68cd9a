"""Console user rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update

from creditflow.console.models import ConsoleUser, Role
from creditflow.db.tables import console_users
from creditflow.db.tx import Tx


def user_of(row: Any) -> ConsoleUser:
    return ConsoleUser(
        id=row.id, email=row.email, role=Role(row.role), totp_enabled=row.totp_enabled_at is not None,
        disabled_at=row.disabled_at, password_changed_at=row.password_changed_at, created_at=row.created_at,
    )


async def insert(tx: Tx, **values: Any) -> None:
    await tx.conn.execute(console_users.insert().values(**values))


async def find(tx: Tx, *, user_id: str | None = None, email: str | None = None) -> Any:
    query = select(console_users)
    query = query.where(console_users.c.id == user_id) if user_id else query.where(console_users.c.email == email)
    return (await tx.conn.execute(query)).first()


async def list_all(tx: Tx) -> list[ConsoleUser]:
    rows = await tx.conn.execute(select(console_users).order_by(console_users.c.id))
    return [user_of(row) for row in rows]


async def change(tx: Tx, user_id: str, **values: Any) -> None:
    statement = update(console_users).where(console_users.c.id == user_id)
    await tx.conn.execute(statement.values(updated_at=tx.now, **values))
