"""Built-in end-user accounts (CREDITFLOW_PORTAL_SIGNUP=true): sign up, log in, reset a password by email.

Passwords are hashed with argon2id at m=19 MiB, t=2, p=1 (OWASP's minimum), at most two at a time per
process so a burst of log-ins cannot take all the memory, in a worker thread so the event loop keeps serving.
Log-in and reset answers are the same whether or not the email exists (an unknown one still costs a hash).
"""

from __future__ import annotations

import asyncio
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

import anyio
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from creditflow.apikeys.service import create_api_key
from creditflow.config import Settings
from creditflow.customers.service import Customer, create_customer
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, RateLimited, Unauthenticated
from creditflow.ids import new_id
from creditflow.invoices.models import Issuer
from creditflow.mail.messages import Message
from creditflow.mail.outbox import queue_for_customer
from creditflow.payments.gateways.registry import public_url
from creditflow.portal import repository
from creditflow.portal.models import TokenKind
from creditflow.ratelimit import RateLimiter
from creditflow.subscriptions.service import create_subscription
from creditflow.web.sessions import end_customer_sessions

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32, salt_len=16)
_HASH_SLOTS = asyncio.Semaphore(2)
# Verified against when the email is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not-a-real-password")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
RESET_LIFETIME = timedelta(minutes=30)
LOGIN_WINDOW_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class SignedUp:
    customer: Customer
    first_key: str | None


async def hash_password(password: str) -> str:
    async with _HASH_SLOTS:
        return await anyio.to_thread.run_sync(_HASHER.hash, password)


async def _verify(stored: str, password: str) -> bool:
    async with _HASH_SLOTS:
        try:
            return await anyio.to_thread.run_sync(_HASHER.verify, stored, password)
        except (VerificationError, InvalidHashError):
            return False


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.match(value) or len(value) > 320:
        raise InvalidRequest("Enter an email address like name@example.com", param="email")
    return value


def check_password(password: str) -> str:
    if not 10 <= len(password) <= 200:
        raise InvalidRequest("Choose a password of 10 to 200 characters", param="password")
    return password


async def limit(limiter: RateLimiter, key: str, allowed: int, window_seconds: int, tx: Tx) -> None:
    decision = await limiter.hit(f"portal:{key}", allowed, window_seconds, tx.now)
    if not decision.allowed:
        raise RateLimited(
            f"too many attempts; try again in {decision.retry_after} seconds",
            details={"retry_after": decision.retry_after},
        )


async def sign_up(tx: Tx, settings: Settings, email: str, password: str) -> SignedUp:
    """A customer with its wallet (and the default plan and a first key when configured) and its login."""
    address = normalize_email(email)
    password_hash = await hash_password(check_password(password))
    if await repository.user_by_email(tx, address) is not None:
        raise InvalidRequest(
            "An account could not be created with this email. If it is yours, sign in or reset your password.",
            param="email",
        )
    user_id = new_id("usr")
    customer = await create_customer(
        tx, external_id=f"portal:{user_id}", currency=settings.default_currency, email=address, name=address
    )
    await repository.add_user(tx, user_id, customer.id, address, password_hash)
    if settings.portal_default_plan:
        await create_subscription(
            tx, customer=customer.id, plan=settings.portal_default_plan, start_at=None,
            issuer=Issuer.from_settings(settings),
        )
    first_key = None
    if settings.portal_first_key:
        _, first_key = await create_api_key(tx, customer.id, name="Default key")
    return SignedUp(customer, first_key)


async def log_in(tx: Tx, email: str, password: str) -> str:
    """The customer id for a right email and password; one answer for every wrong combination."""
    user = await repository.user_by_email(tx, email.strip().lower())
    matches = await _verify(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not matches:
        raise Unauthenticated("The email or password is not right")
    return user.customer_id


async def request_reset(tx: Tx, settings: Settings, email: str) -> None:
    """Email a single-use link (stored hashed, 30 minutes) if the address has an account; silent otherwise."""
    user = await repository.user_by_email(tx, email.strip().lower())
    if user is None:
        return
    token = secrets.token_urlsafe(32)
    await repository.add_token(tx, token, TokenKind.RESET, user.customer_id, tx.now + RESET_LIFETIME)
    link = f"{public_url(settings)}/portal/reset?token={token}"
    body = (
        f"Someone asked to reset the password of your {settings.brand_name} billing account.\n\n"
        f"Choose a new password here (the link works once, for 30 minutes):\n{link}\n\n"
        "If it was not you, ignore this email: your password stays as it is."
    )
    await queue_for_customer(tx, user.customer_id, Message("password_reset", "Reset your password", body))


async def reset_password(tx: Tx, token: str, password: str) -> str:
    """Consume the reset token (by POST only), set the password, end every session of the customer."""
    check_password(password)
    used = await repository.use_token(tx, token, TokenKind.RESET)
    if used is None:
        raise InvalidRequest("This reset link was already used or has expired; ask for a new one", param="token")
    user = await repository.user_by_customer(tx, used.customer_id)
    assert user is not None
    await repository.set_password_hash(tx, user.id, await hash_password(password))
    await end_customer_sessions(tx, used.customer_id)
    return used.customer_id
