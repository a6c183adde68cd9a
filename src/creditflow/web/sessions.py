"""Server-side browser sessions: a random secret in an HttpOnly cookie, its SHA-256 in web_sessions.

A session is always new at login (never an id the browser brought), carries its own CSRF token, and can be
ended from the server: a password change, a reset or a disabled customer ends all of a customer's sessions.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import select, update

from creditflow.config import Settings
from creditflow.db.tables import web_sessions
from creditflow.db.tx import Tx
from creditflow.ids import new_id

COOKIE_NAME = "cf_session"


@dataclass(frozen=True, slots=True)
class WebSession:
    id: str
    customer_id: str
    via: str
    csrf_token: str
    expires_at: datetime


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _from_row(row: Any) -> WebSession:
    return WebSession(
        id=row.id, customer_id=row.customer_id, via=row.via, csrf_token=row.csrf_token, expires_at=row.expires_at
    )


async def start_session(tx: Tx, customer_id: str, *, via: str, lifetime: timedelta) -> tuple[WebSession, str]:
    """A new session; the secret (for the cookie) is returned once and only its hash is kept."""
    secret = secrets.token_urlsafe(32)
    session_id = new_id("ses")
    await tx.conn.execute(
        web_sessions.insert().values(
            id=session_id, secret_hash=_digest(secret), customer_id=customer_id, via=via,
            csrf_token=secrets.token_urlsafe(32), created_at=tx.now, expires_at=tx.now + lifetime, ended_at=None,
        )
    )
    row = (await tx.conn.execute(select(web_sessions).where(web_sessions.c.id == session_id))).one()
    return _from_row(row), secret


async def find_session(tx: Tx, secret: str | None) -> WebSession | None:
    """The live session this secret opens, or None (unknown, ended or expired)."""
    if not secret:
        return None
    query = select(web_sessions).where(
        web_sessions.c.secret_hash == _digest(secret), web_sessions.c.ended_at.is_(None),
        web_sessions.c.expires_at > tx.now,
    )
    row = (await tx.conn.execute(query)).first()
    return None if row is None else _from_row(row)


async def end_session(tx: Tx, session_id: str) -> None:
    await tx.conn.execute(
        update(web_sessions).where(web_sessions.c.id == session_id, web_sessions.c.ended_at.is_(None))
        .values(ended_at=tx.now)
    )


async def end_customer_sessions(tx: Tx, customer_id: str) -> None:
    """Log the customer out everywhere (password change or reset, customer disabled)."""
    await tx.conn.execute(
        update(web_sessions).where(web_sessions.c.customer_id == customer_id, web_sessions.c.ended_at.is_(None))
        .values(ended_at=tx.now)
    )


def is_https(request: Request, settings: Settings) -> bool:
    return (settings.public_url or str(request.base_url)).startswith("https://")


def set_session_cookie(response: Response, request: Request, settings: Settings, secret: str) -> None:
    """HttpOnly and SameSite=Lax; framed by another site it must be SameSite=None; Secure; Partitioned."""
    secure = is_https(request, settings)
    max_age = settings.portal_session_hours * 3600
    if settings.portal_frame_ancestors and secure:
        # Starlette cannot write the Partitioned attribute, so this one cookie is written by hand.
        response.headers.append(
            "set-cookie",
            f"{COOKIE_NAME}={secret}; Max-Age={max_age}; Path=/; HttpOnly; Secure; SameSite=None; Partitioned",
        )
        return
    response.set_cookie(COOKIE_NAME, secret, max_age=max_age, path="/", httponly=True, secure=secure, samesite="lax")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE_NAME, path="/")
