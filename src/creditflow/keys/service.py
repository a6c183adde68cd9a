"""Operator keys: 256-bit random secrets, stored only as SHA-256, each with a scope.

A fast hash is right for random keys (nothing to brute-force) and cheap enough for every request.
Scopes: "all" may call everything; "usage" only what an API gateway needs (USAGE_ROUTES).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, func, select, update

from creditflow.audit import service as audit
from creditflow.audit.models import Change
from creditflow.db.tables import operator_keys
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from creditflow.ids import new_id

KEY_PREFIX = "cf_sk_"
ALL_SCOPES = "all"
USAGE_SCOPE = "usage"
SCOPES = (ALL_SCOPES, USAGE_SCOPE)
# The one allow-list of the "usage" scope: (method, route path template). Everything else is 403.
USAGE_ROUTES = frozenset({
    ("POST", "/v1/api_keys/verify"),
    ("POST", "/v1/authorize"),
    ("POST", "/v1/holds/{hold_id}/capture"),
    ("POST", "/v1/holds/{hold_id}/void"),
    ("POST", "/v1/events"),
    ("POST", "/v1/events/estimate"),
    ("POST", "/v1/events/batch"),
})


@dataclass(slots=True)
class OperatorKey:
    id: str
    name: str
    prefix: str
    scopes: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def actor(self) -> str:
        return f"key:{self.id}"


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def permits(scopes: str, method: str, path: str) -> bool:
    """Whether a key with `scopes` may call the route `method path` (path as its template)."""
    return scopes == ALL_SCOPES or (scopes == USAGE_SCOPE and (method, path) in USAGE_ROUTES)


def scope_forbidden(scopes: str, endpoint: str = "this endpoint") -> Forbidden:
    return Forbidden(
        f"this operator key has the '{scopes}' scope, which does not allow {endpoint}: a 'usage' key may only "
        "verify customer API keys, capture or void holds and send or price events; use a key with the "
        "'all' scope",
        details={"scope": scopes},
    )


async def create_key(tx: Tx, name: str, scopes: str = ALL_SCOPES) -> tuple[OperatorKey, str]:
    """Create a key; the secret is returned once and never stored."""
    if scopes not in SCOPES:
        raise InvalidRequest(f"unknown scope '{scopes}'; one of: {', '.join(SCOPES)}", param="scope")
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = new_id("key")
    await tx.conn.execute(
        operator_keys.insert().values(
            id=key_id, name=name, key_hash=hash_key(secret), prefix=secret[: len(KEY_PREFIX) + 4],
            scopes=scopes, created_at=tx.now, revoked_at=None,
        )
    )
    key = await get_key(tx, key_id)
    await audit.record(tx, Change("operator_key.create", "operator_key", key_id, None, _audited(key)))
    return key, secret


def _audited(key: OperatorKey) -> dict[str, object]:
    """What the audit log shows of a key: never its secret or hash."""
    return {"name": key.name, "scopes": key.scopes, "prefix": key.prefix, "revoked": key.revoked_at is not None}


async def get_key(tx: Tx, key_id: str) -> OperatorKey:
    row = (await tx.conn.execute(select(operator_keys).where(operator_keys.c.id == key_id))).first()
    if row is None:
        raise NotFound(f"no operator key '{key_id}'", param="id")
    return _from_row(row)


def _from_row(row: object) -> OperatorKey:
    return OperatorKey(
        id=row.id, name=row.name, prefix=row.prefix, scopes=row.scopes,  # type: ignore[attr-defined]
        created_at=row.created_at, revoked_at=row.revoked_at,  # type: ignore[attr-defined]
    )


async def list_keys(tx: Tx) -> list[OperatorKey]:
    rows = (await tx.conn.execute(select(operator_keys).order_by(operator_keys.c.id))).all()
    return [_from_row(r) for r in rows]


async def count_active_keys(tx: Tx) -> int:
    query = select(func.count()).select_from(operator_keys).where(operator_keys.c.revoked_at.is_(None))
    return int((await tx.conn.execute(query)).scalar_one())


async def revoke_key(tx: Tx, key_id: str) -> OperatorKey:
    key = await get_key(tx, key_id)
    if key.revoked_at is not None:
        raise Conflict(f"operator key {key_id} is already revoked", param="id")
    await tx.conn.execute(update(operator_keys).where(operator_keys.c.id == key_id).values(revoked_at=tx.now))
    revoked = await get_key(tx, key_id)
    await audit.record(tx, Change("operator_key.revoke", "operator_key", key_id, _audited(key), _audited(revoked)))
    return revoked


# Every request runs this: built once, not per request.
_BY_HASH = select(operator_keys).where(operator_keys.c.key_hash == bindparam("key_hash"))


async def authenticate(tx: Tx, secret: str | None) -> OperatorKey:
    if not secret:
        raise Unauthenticated("send your operator key as 'Authorization: Bearer <key>'")
    digest = hash_key(secret)
    row = (await tx.conn.execute(_BY_HASH, {"key_hash": digest})).first()
    # The lookup is by hash; the constant-time compare keeps the final check free of timing leaks.
    if row is None or not hmac.compare_digest(row.key_hash, digest) or row.revoked_at is not None:
        raise Unauthenticated("the operator key is not valid or has been revoked")
    return _from_row(row)
