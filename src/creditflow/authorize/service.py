"""Authorize in one call: verify the customer's key, count it on its rate limit, check budget and
balance, and place a hold, all in one transaction. An API gateway calls this before the work and
captures the hold with the real cost after it.

A refusal is an answer, not an error: it writes nothing and says why, so a gateway can branch on
`allowed` without parsing error bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

from creditflow.apikeys.service import enforce_rate_limit, find_active_key
from creditflow.budgets.guard import BudgetState, tightest
from creditflow.budgets.service import tightest_budget
from creditflow.db.tx import Tx
from creditflow.errors import BudgetExceeded, InsufficientFunds, RateLimited
from creditflow.ledger import holds
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.models import Hold, WalletState
from creditflow.ratelimit import RateLimiter
from creditflow.wallets.lookup import resolve_wallet

INVALID_KEY = "invalid_key"


@dataclass(slots=True)
class Authorization:
    allowed: bool
    reason: str | None = None
    message: str | None = None
    hold: Hold | None = None
    customer_id: str | None = None
    api_key_id: str | None = None
    wallet: WalletState | None = None
    budget: BudgetState | None = None
    retry_after: int | None = None


async def authorize(
    tx: Tx,
    limiter: RateLimiter,
    *,
    api_key: str | None,
    customer: str | None,
    amount: int,
    unit: str | None,
    expires_in: int,
) -> Authorization:
    """Place a hold of `amount` (the estimate) if the key, its rate limit, the budgets and the balance
    allow it. With `api_key` (the secret), the hold and its later capture count on that key's budgets."""
    api_key_id = key_owner = None
    if api_key is not None:
        key = await find_active_key(tx, api_key)
        if key is None:
            return Authorization(False, INVALID_KEY, "the API key is unknown, revoked or expired")
        try:
            await enforce_rate_limit(limiter, key, tx.now)
        except RateLimited as refused:
            retry_after = (refused.details or {}).get("retry_after")
            return Authorization(
                False, refused.code, refused.message, customer_id=key.customer_id, api_key_id=key.id,
                retry_after=retry_after,
            )
        customer, api_key_id, key_owner = key.customer_id, key.id, key.customer_id
    assert customer is not None
    try:
        placed = await holds.place_hold(
            tx, customer=customer, amount=amount, unit=unit, expires_in=expires_in,
            description="authorize", api_key_id=api_key_id, api_key_owner=key_owner,
        )
    except (InsufficientFunds, BudgetExceeded) as refused:
        # Nothing was written; read what the refusal reports (the refused path may cost a little more).
        ref = await resolve_wallet(tx, customer, unit)
        wallet = await lock_and_sweep(tx, ref.wallet_id)
        assert wallet is not None
        return Authorization(
            False, refused.code, refused.message, customer_id=ref.customer_id, api_key_id=api_key_id, wallet=wallet,
            budget=await tightest_budget(tx, wallet, api_key_id),
        )
    return Authorization(
        True, hold=placed.hold, customer_id=placed.hold.customer_id, api_key_id=api_key_id, wallet=placed.wallet,
        budget=tightest(placed.budgets),
    )
