"""Idempotency-Key handling.

The claim is committed on its own before the work starts (so a concurrent retry sees it in flight);
it is a lease, so a crashed request frees the key. The stored response is written in the same
transaction as the work itself: a money movement and its replayable answer commit together, or not
at all. A request that changed nothing (4xx, 5xx) deletes its claim, so it can be retried.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request, Response
from sqlalchemy import and_, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from creditflow.db.tables import idempotency_keys, operator_keys
from creditflow.errors import IdempotencyKeyInUse, IdempotencyKeyReused, InvalidRequest, Unauthenticated
from creditflow.http.json_body import loads
from creditflow.keys.service import hash_key

MAX_KEY_LENGTH = 255
REPLAY_HEADER = "Idempotent-Replayed"
REDACTED_FIELDS = frozenset({"secret", "key"})


@dataclass(slots=True, frozen=True)
class Claim:
    scope: str
    key: str


@dataclass(slots=True, frozen=True)
class Replay:
    status: int
    body: str


def request_scope(credential: str, method: str, path: str) -> str:
    """Keys are scoped by (credential, method, path): an operator key's id (never how its header was spelled)
    or a portal customer; the credential appears only as a hash."""
    return hashlib.sha256(f"{credential}\n{method}\n{path}".encode()).hexdigest()


async def operator_scope(engine: AsyncEngine, secret: str, method: str, path: str) -> str:
    """The scope of an operator key's request: by the key's id, so `bearer K` and `Bearer  K` share it."""
    async with engine.connect() as conn:
        found = select(operator_keys.c.id).where(operator_keys.c.key_hash == hash_key(secret))
        key_id = (await conn.execute(found)).scalar()
    if key_id is None:
        raise Unauthenticated("the operator key is not valid or has been revoked")
    return request_scope(key_id, method, path)


def request_fingerprint(body: Any, query: str) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{query}\n{canonical}".encode()).hexdigest()


def validate_key(key: str) -> str:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidRequest(
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable characters", param="Idempotency-Key"
        )
    return key


async def claim(
    engine: AsyncEngine,
    scope: str,
    key: str,
    fingerprint: str,
    now: datetime,
    *,
    lease: timedelta,
    ttl: timedelta,
    key_hash: str | None,
) -> Claim | Replay:
    """Claim `key`, or find its stored answer; only for an active operator key (a revoked key replays nothing).

    `key_hash` None: the caller authenticated a customer credential itself, in the same request (/v1/portal)."""
    where = and_(idempotency_keys.c.scope == scope, idempotency_keys.c.key == key)
    fresh = {
        "request_hash": fingerprint, "status": "in_flight", "lease_expires_at": now + lease,
        "response_status": None, "response_body": None, "created_at": now, "expires_at": now + ttl,
    }
    try:
        async with engine.begin() as conn:
            active_key = select(operator_keys.c.id).where(
                operator_keys.c.key_hash == key_hash, operator_keys.c.revoked_at.is_(None)
            )
            if key_hash is not None and (await conn.execute(active_key)).first() is None:
                raise Unauthenticated("the operator key is not valid or has been revoked")
            row = (await conn.execute(select(idempotency_keys).where(where).with_for_update())).first()
            if row is None:
                await conn.execute(idempotency_keys.insert().values(scope=scope, key=key, **fresh))
                return Claim(scope, key)
            if row.expires_at <= now:
                await conn.execute(update(idempotency_keys).where(where).values(**fresh))
                return Claim(scope, key)
            if row.request_hash != fingerprint:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was already used with a different request", param="Idempotency-Key"
                )
            if row.status == "completed":
                return Replay(row.response_status, row.response_body)
            if row.lease_expires_at > now:
                raise IdempotencyKeyInUse(
                    "a request with this Idempotency-Key is still in progress; retry shortly",
                    param="Idempotency-Key",
                )
            await conn.execute(update(idempotency_keys).where(where).values(lease_expires_at=now + lease))
            return Claim(scope, key)
    except IntegrityError:
        raise IdempotencyKeyInUse(
            "a request with this Idempotency-Key is still in progress; retry shortly", param="Idempotency-Key"
        ) from None


async def complete(conn: AsyncConnection, claimed: Claim, status: int, body: bytes) -> None:
    await conn.execute(
        update(idempotency_keys)
        .where(idempotency_keys.c.scope == claimed.scope, idempotency_keys.c.key == claimed.key)
        .values(status="completed", response_status=status, response_body=redact(body))
    )


async def release(engine: AsyncEngine, claimed: Claim) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            delete(idempotency_keys).where(
                idempotency_keys.c.scope == claimed.scope,
                idempotency_keys.c.key == claimed.key,
                idempotency_keys.c.status == "in_flight",
            )
        )


async def purge_expired(conn: AsyncConnection, now: datetime) -> int:
    result = await conn.execute(delete(idempotency_keys).where(idempotency_keys.c.expires_at <= now))
    return result.rowcount or 0


def redact(body: bytes) -> str:
    """Secrets shown once are not kept: a replay answers with them redacted."""
    text = body.decode()
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and REDACTED_FIELDS & document.keys():
        document = {k: ("[redacted]" if k in REDACTED_FIELDS else v) for k, v in document.items()}
        return json.dumps(document)
    return text


def replay_response(replay: Replay) -> Response:
    return Response(
        replay.body, status_code=replay.status, media_type="application/json", headers={REPLAY_HEADER: "true"}
    )


async def claim_for_request(request: Request, key: str, now: datetime) -> Claim | Replay | None:
    """Claim `key` for this request, or find its stored answer. None: the body is not JSON (nothing to store)."""
    validate_key(key)
    body = await request.body()
    try:
        document = loads(body) if body else None
    except ValueError:
        return None
    secret = bearer_secret(request)
    if secret is None:
        raise Unauthenticated("send your operator key as 'Authorization: Bearer <key>'")
    settings = request.app.state.settings
    return await claim(
        request.app.state.engine,
        await operator_scope(request.app.state.engine, secret, request.method, request.url.path),
        key,
        request_fingerprint(document, request.url.query),
        now,
        lease=timedelta(seconds=settings.idempotency_lease_seconds),
        ttl=timedelta(hours=settings.idempotency_ttl_hours),
        key_hash=hash_key(secret),
    )


def bearer_secret(request: Request) -> str | None:
    """The key of 'Authorization: Bearer <key>', the one parser of that header on every route.

    The scheme is matched in any case and the spaces around either part are ignored (RFC 9110 11.1), so
    `bearer K` and `Bearer  K` are the same key as `Bearer K`.
    """
    parts = request.headers.get("Authorization", "").split(None, 1)
    if len(parts) != 2 or parts[0].lower() != "bearer":
        return None
    return parts[1].strip() or None
