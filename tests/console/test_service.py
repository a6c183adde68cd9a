"""console/service.py: users with argon2id hashes, sign-in, disabling, password resets and TOTP, each audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlalchemy import select

from creditflow.audit.service import list_events
from creditflow.console import service
from creditflow.console.models import Role
from creditflow.db.tables import console_users
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
PASSWORD = "correct horse battery"


async def _in_tx(engine, work, now: datetime = NOW):
    async with engine.begin() as conn:
        return await work(Tx(conn=conn, now=now, actor="cli"))


async def test_create_hashes_with_argon2id_and_signs_in(engine) -> None:
    user = await _in_tx(engine, lambda tx: service.create_user(tx, email=" Ops@Example.com ", role=Role.ADMIN,
                                                               password=PASSWORD))
    assert (user.email, user.role, user.totp_enabled) == ("ops@example.com", Role.ADMIN, False)
    async with engine.connect() as conn:
        stored = (await conn.execute(select(console_users.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$") and PASSWORD not in stored
    assert (await _in_tx(engine, lambda tx: service.authenticate(tx, "ops@example.com", PASSWORD))).id == user.id
    assert await _in_tx(engine, lambda tx: service.authenticate(tx, "ops@example.com", "wrong password!")) is None
    assert await _in_tx(engine, lambda tx: service.authenticate(tx, "nobody@example.com", PASSWORD)) is None
    events = await _in_tx(engine, lambda tx: list_events(tx, limit=10))
    assert [(e.action, e.actor_type, e.changes["role"]["after"]) for e in events] == [
        ("console_user.create", "cli", "admin")]
    assert "password_hash" not in events[0].changes


async def test_duplicates_short_passwords_and_bad_emails_are_refused(engine) -> None:
    await _in_tx(engine, lambda tx: service.create_user(tx, email="a@example.com", role=Role.VIEWER,
                                                        password=PASSWORD))
    with pytest.raises(service.UserExists):
        await _in_tx(engine, lambda tx: service.create_user(tx, email="A@example.com", role=Role.OWNER,
                                                            password=PASSWORD))
    for email, password in (("b@example.com", "short"), ("not-an-email", PASSWORD)):
        with pytest.raises(InvalidRequest):
            await _in_tx(engine, lambda tx, e=email, p=password: service.create_user(
                tx, email=e, role=Role.VIEWER, password=p))


async def test_a_disabled_user_cannot_sign_in_and_a_reset_password_replaces_the_old(engine) -> None:
    user = await _in_tx(engine, lambda tx: service.create_user(tx, email="c@example.com", role=Role.OWNER,
                                                               password=PASSWORD))
    await _in_tx(engine, lambda tx: service.reset_password(tx, user.id, "a brand new password"))
    assert await _in_tx(engine, lambda tx: service.authenticate(tx, "c@example.com", PASSWORD)) is None
    assert await _in_tx(engine, lambda tx: service.authenticate(tx, "c@example.com", "a brand new password"))
    disabled = await _in_tx(engine, lambda tx: service.disable_user(tx, user.id))
    assert disabled.disabled_at == NOW
    assert await _in_tx(engine, lambda tx: service.authenticate(tx, "c@example.com", "a brand new password")) is None
    events = await _in_tx(engine, lambda tx: list_events(tx, resource=user.id, limit=10))
    assert [e.action for e in events] == ["console_user.disable", "console_user.reset_password", "console_user.create"]
    assert events[0].changes == {"disabled": {"before": False, "after": True}}


async def test_totp_is_enrolled_by_confirming_a_code_and_then_verified(engine) -> None:
    user = await _in_tx(engine, lambda tx: service.create_user(tx, email="d@example.com", role=Role.OWNER,
                                                               password=PASSWORD))
    assert await _in_tx(engine, lambda tx: service.verify_totp(tx, user.id, "000000"))  # not enrolled
    uri = await _in_tx(engine, lambda tx: service.start_totp(tx, user.id))
    totp = pyotp.parse_uri(uri)
    assert uri.startswith("otpauth://totp/creditflow:d%40example.com?")
    with pytest.raises(InvalidRequest):
        await _in_tx(engine, lambda tx: service.confirm_totp(tx, user.id, "000000" if totp.at(NOW) != "000000"
                                                             else "111111"))
    confirmed = await _in_tx(engine, lambda tx: service.confirm_totp(tx, user.id, totp.at(NOW)))
    assert confirmed.totp_enabled
    later = NOW + timedelta(minutes=5)
    assert await _in_tx(engine, lambda tx: service.verify_totp(tx, user.id, totp.at(later)), later)
    assert not await _in_tx(engine, lambda tx: service.verify_totp(tx, user.id, totp.at(NOW)), later)
