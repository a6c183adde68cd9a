"""The portal's queries: single-use tokens and end-user accounts."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import customers, portal_tokens, portal_users
from creditflow.db.tx import Tx
from creditflow.portal.models import TokenKind, UsedToken


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def add_token(
    tx: Tx, token: str, kind: TokenKind, customer_id: str, expires_at: datetime,
    *, flow: str | None = None, return_url: str | None = None,
) -> bool:
    """Store a token's hash; False when it is already there (a JWT whose jti was exchanged before)."""
    row = {
        "token_hash": token_digest(token), "kind": kind, "customer_id": customer_id, "flow": flow,
        "return_url": return_url, "created_at": tx.now, "expires_at": expires_at, "used_at": None,
    }
    return await insert_ignoring_conflicts(tx.conn, portal_tokens, [row]) == 1


async def use_token(tx: Tx, token: str, kind: TokenKind) -> UsedToken | None:
    """Mark a live token used and return it; None when unknown, expired or already used (by anyone)."""
    where = (
        (portal_tokens.c.token_hash == token_digest(token)) & (portal_tokens.c.kind == kind)
        & portal_tokens.c.used_at.is_(None) & (portal_tokens.c.expires_at > tx.now)
    )
    row = (await tx.conn.execute(select(portal_tokens).where(where))).first()
    if row is None:
        return None
    # The conditional update is the single-use guarantee: of two concurrent uses only one changes a row.
    changed = await tx.conn.execute(update(portal_tokens).where(where).values(used_at=tx.now))
    if changed.rowcount != 1:
        return None
    return UsedToken(customer_id=row.customer_id, flow=row.flow, return_url=row.return_url)


async def add_user(tx: Tx, user_id: str, customer_id: str, email: str, password_hash: str) -> None:
    await tx.conn.execute(
        portal_users.insert().values(
            id=user_id, customer_id=customer_id, email=email, password_hash=password_hash,
            created_at=tx.now, password_changed_at=tx.now,
        )
    )


async def user_by_email(tx: Tx, email: str) -> Any | None:
    return (await tx.conn.execute(select(portal_users).where(portal_users.c.email == email))).first()


async def user_by_customer(tx: Tx, customer_id: str) -> Any | None:
    return (await tx.conn.execute(select(portal_users).where(portal_users.c.customer_id == customer_id))).first()


async def set_password_hash(tx: Tx, user_id: str, password_hash: str) -> None:
    await tx.conn.execute(
        update(portal_users).where(portal_users.c.id == user_id)
        .values(password_hash=password_hash, password_changed_at=tx.now)
    )


async def customer_id_by_external_id(tx: Tx, external_id: str) -> str | None:
    """Only the external_id: a token's subject must never be read as one of our own customer ids."""
    row = (await tx.conn.execute(select(customers.c.id).where(customers.c.external_id == external_id))).first()
    return None if row is None else row.id
