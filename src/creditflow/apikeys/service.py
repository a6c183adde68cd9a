"""Customer API keys: 256-bit random secrets stored only as SHA-256 (like operator keys), each with an
optional expiry and rate limit. `verify` is the one call an API gateway makes per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from creditflow.budgets.guard import BudgetState
from creditflow.budgets.service import tightest_budget
from creditflow.customers.service import Customer, get_customer
from creditflow.db.pagination import newest_first
from creditflow.db.tables import customer_api_keys
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound, RateLimited
from creditflow.ids import new_id
from creditflow.ratelimit import RateLimiter
from creditflow.wallets.service import WalletView, wallet_for

KEY_PREFIX = "cf_ck_"
WINDOW_SECONDS = {"second": 1, "minute": 60}
RATE_LIMIT_PREFIX = "api_key:"


@dataclass(slots=True)
class CustomerApiKey:
    id: str
    customer_id: str
    name: str
    prefix: str
    expires_at: datetime | None
    rate_limit_requests: int | None
    rate_limit_per: str | None
    created_at: datetime
    revoked_at: datetime | None
    scopes: tuple[str, ...] = ()

    def status(self, now: datetime) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"


@dataclass(slots=True)
class Verified:
    key: CustomerApiKey
    customer: Customer
    wallet: WalletView
    budget: BudgetState | None = None


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _from_row(row: Any) -> CustomerApiKey:
    return CustomerApiKey(
        id=row.id, customer_id=row.customer_id, name=row.name, prefix=row.prefix, expires_at=row.expires_at,
        rate_limit_requests=row.rate_limit_requests, rate_limit_per=row.rate_limit_per,
        created_at=row.created_at, revoked_at=row.revoked_at, scopes=tuple(row.scopes.split()),
    )


async def create_api_key(
    tx: Tx,
    customer_ref: str,
    *,
    name: str,
    expires_at: datetime | None = None,
    rate_limit: tuple[int, str] | None = None,
    scopes: tuple[str, ...] = (),
) -> tuple[CustomerApiKey, str]:
    """Create a key for the customer; the secret is returned once and never stored."""
    customer = await get_customer(tx, customer_ref)
    if expires_at is not None and expires_at <= tx.now:
        raise InvalidRequest("expires_at must be in the future", param="expires_at")
    requests, per = rate_limit if rate_limit is not None else (None, None)
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    key_id = new_id("ak")
    await tx.conn.execute(
        customer_api_keys.insert().values(
            id=key_id, customer_id=customer.id, name=name, key_hash=hash_key(secret),
            prefix=secret[: len(KEY_PREFIX) + 4], expires_at=expires_at, rate_limit_requests=requests,
            rate_limit_per=per, created_at=tx.now, revoked_at=None, scopes=" ".join(sorted(set(scopes))),
        )
    )
    return await _get(tx, customer.id, key_id), secret


async def _get(tx: Tx, customer_id: str, key_id: str) -> CustomerApiKey:
    query = select(customer_api_keys).where(
        customer_api_keys.c.id == key_id, customer_api_keys.c.customer_id == customer_id
    )
    row = (await tx.conn.execute(query)).first()
    if row is None:
        raise NotFound(f"the customer has no API key '{key_id}'", param="id")
    return _from_row(row)


async def list_api_keys(
    tx: Tx, customer_ref: str, *, limit: int, starting_after: str | None
) -> list[CustomerApiKey]:
    """The customer's keys (revoked and expired ones too), newest first."""
    customer = await get_customer(tx, customer_ref)
    query = newest_first(
        select(customer_api_keys).where(customer_api_keys.c.customer_id == customer.id),
        customer_api_keys.c.id, limit=limit, starting_after=starting_after,
    )
    return [_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def revoke_api_key(tx: Tx, customer_ref: str, key_id: str) -> CustomerApiKey:
    customer = await get_customer(tx, customer_ref)
    key = await _get(tx, customer.id, key_id)
    if key.revoked_at is not None:
        raise Conflict(f"API key {key_id} is already revoked", param="id")
    await tx.conn.execute(
        update(customer_api_keys).where(customer_api_keys.c.id == key_id).values(revoked_at=tx.now)
    )
    return await _get(tx, customer.id, key_id)


# verify and authorize run this on every call: built once, not per request.
_BY_HASH = select(customer_api_keys).where(customer_api_keys.c.key_hash == bindparam("key_hash"))


async def find_active_key(tx: Tx, secret: str) -> CustomerApiKey | None:
    """The key this secret belongs to, if it is neither revoked nor expired."""
    digest = hash_key(secret)
    row = (await tx.conn.execute(_BY_HASH, {"key_hash": digest})).first()
    # The lookup is by hash; the constant-time compare keeps the final check free of timing leaks.
    if row is None or not hmac.compare_digest(row.key_hash, digest):
        return None
    key = _from_row(row)
    return key if key.status(tx.now) == "active" else None


async def enforce_rate_limit(limiter: RateLimiter, key: CustomerApiKey, now: datetime) -> None:
    """Count one request on the key's limit (if it has one); RateLimited, with retry_after, when over it."""
    if key.rate_limit_requests is None or key.rate_limit_per is None:
        return
    decision = await limiter.hit(
        RATE_LIMIT_PREFIX + key.id, key.rate_limit_requests, WINDOW_SECONDS[key.rate_limit_per], now
    )
    if not decision.allowed:
        raise RateLimited(
            f"API key {key.id} is over its limit of {key.rate_limit_requests} requests per {key.rate_limit_per}; "
            f"retry in {decision.retry_after}s",
            details={"retry_after": decision.retry_after},
        )


async def verify(tx: Tx, limiter: RateLimiter, secret: str) -> Verified | None:
    """The key's customer and wallet (in the customer's currency, after lazy expiry), or None for an
    unknown, revoked or expired key. A valid key's request counts on its rate limit."""
    key = await find_active_key(tx, secret)
    if key is None:
        return None
    await enforce_rate_limit(limiter, key, tx.now)
    customer = await get_customer(tx, key.customer_id)
    wallet = await wallet_for(tx, customer.id, customer.currency)
    return Verified(key=key, customer=customer, wallet=wallet, budget=await tightest_budget(tx, wallet.state, key.id))
