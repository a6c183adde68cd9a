"""Console users: create, list, disable, reset a password, sign in, and TOTP enrolment. Every change is audited
in the caller's transaction, as the acting principal (the CLI, or an owner in the console)."""

from __future__ import annotations

import re
from typing import Any

import pyotp

from creditflow.audit import service as audit
from creditflow.audit.models import Change
from creditflow.console import passwords, repository
from creditflow.console.models import ConsoleUser, Role
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
TOTP_ISSUER = "creditflow"


class UserExists(Conflict):
    code = "user_exists"


def _public(user: ConsoleUser) -> dict[str, Any]:
    """What the audit log shows of a user (never a hash or a secret)."""
    return {"email": user.email, "role": str(user.role), "totp_enabled": user.totp_enabled,
            "disabled": user.disabled_at is not None}


async def _audit(tx: Tx, action: str, before: ConsoleUser | None, after: ConsoleUser) -> None:
    await audit.record(tx, Change(action, "console_user", after.id, before and _public(before), _public(after)))


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if not _EMAIL.fullmatch(value) or len(value) > 320:
        raise InvalidRequest("not an email address", param="email")
    return value


async def get_user(tx: Tx, user_id: str) -> ConsoleUser:
    row = await repository.find(tx, user_id=user_id)
    if row is None:
        raise NotFound(f"no console user '{user_id}'", param="id")
    return repository.user_of(row)


async def create_user(tx: Tx, *, email: str, role: Role, password: str) -> ConsoleUser:
    address = normalize_email(email)
    if await repository.find(tx, email=address) is not None:
        raise UserExists(f"a console user with email '{address}' exists", param="email")
    user_id = new_id("usr")
    await repository.insert(
        tx, id=user_id, email=address, role=str(role), password_hash=passwords.hash_password(password),
        totp_secret=None, totp_enabled_at=None, disabled_at=None, password_changed_at=tx.now, created_at=tx.now,
        updated_at=tx.now,
    )
    user = await get_user(tx, user_id)
    await _audit(tx, "console_user.create", None, user)
    return user


async def list_users(tx: Tx) -> list[ConsoleUser]:
    return await repository.list_all(tx)


async def disable_user(tx: Tx, user_id: str) -> ConsoleUser:
    before = await get_user(tx, user_id)
    if before.disabled_at is not None:
        return before
    await repository.change(tx, user_id, disabled_at=tx.now)
    after = await get_user(tx, user_id)
    await _audit(tx, "console_user.disable", before, after)
    return after


async def reset_password(tx: Tx, user_id: str, password: str) -> ConsoleUser:
    await get_user(tx, user_id)
    await repository.change(tx, user_id, password_hash=passwords.hash_password(password), password_changed_at=tx.now)
    after = await get_user(tx, user_id)
    await audit.record(tx, Change("console_user.reset_password", "console_user", user_id, None,
                                  {"password_changed_at": after.password_changed_at.isoformat()}))
    return after


async def authenticate(tx: Tx, email: str, password: str) -> ConsoleUser | None:
    """The active user with this email and password, else None (the same work either way)."""
    try:
        address = normalize_email(email)
    except InvalidRequest:
        address = ""
    row = await repository.find(tx, email=address) if address else None
    if not passwords.verify_password(row.password_hash if row else None, password) or row.disabled_at is not None:
        return None
    if passwords.needs_rehash(row.password_hash):
        await repository.change(tx, row.id, password_hash=passwords.hash_password(password))
    return repository.user_of(row)


async def start_totp(tx: Tx, user_id: str) -> str:
    """A new TOTP secret for the user, as an otpauth:// URI for an authenticator app; active once confirmed."""
    user = await get_user(tx, user_id)
    secret = pyotp.random_base32()
    await repository.change(tx, user_id, totp_secret=secret, totp_enabled_at=None)
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


async def confirm_totp(tx: Tx, user_id: str, code: str) -> ConsoleUser:
    """Turn TOTP on once the user proves their app shows the right code."""
    before = await get_user(tx, user_id)
    row = await repository.find(tx, user_id=user_id)
    if row.totp_secret is None or not _code_matches(row.totp_secret, code, tx):
        raise InvalidRequest("that code is not the one the authenticator shows now", param="code")
    await repository.change(tx, user_id, totp_enabled_at=tx.now)
    after = await get_user(tx, user_id)
    await _audit(tx, "console_user.enable_totp", before, after)
    return after


async def verify_totp(tx: Tx, user_id: str, code: str) -> bool:
    """Whether `code` is the user's current TOTP code (one step either side for clock drift); True when the user
    has not enabled TOTP."""
    row = await repository.find(tx, user_id=user_id)
    if row is None:
        return False
    if row.totp_enabled_at is None:
        return True
    return _code_matches(row.totp_secret, code, tx)


def _code_matches(secret: str, code: str, tx: Tx) -> bool:
    """At the transaction's clock, one 30 s step either side for drift."""
    return pyotp.TOTP(secret).verify(code, for_time=int(tx.now.timestamp()), valid_window=1)
