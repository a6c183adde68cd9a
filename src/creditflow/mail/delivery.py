"""Sending the email outbox over SMTP (CREDITFLOW_SMTP_*), from the job runner, never inside a transaction.

Each email is claimed under a lease (several runners never send one twice while the lease holds), sent with
the standard library's SMTP client in a worker thread, then marked sent, or retried with backoff; after the
last try it is marked failed with the error. Without an SMTP host configured, queued emails are marked
skipped, so they do not pile up.
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.config import Settings
from creditflow.db.tables import email_outbox
from creditflow.db.tx import Tx
from creditflow.invoices.service import get_invoice

log = logging.getLogger("creditflow.mail")

BATCH = 50
LEASE = timedelta(minutes=5)
# Waits after the 1st, 2nd, ... failed try; after the last one the email is failed.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
           timedelta(hours=6), timedelta(hours=12))


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: str
    attempts: int
    message: EmailMessage


async def deliver_pending(engine: AsyncEngine, clock: Clock, settings: Settings) -> int:
    """Send what is due; returns how many were sent."""
    if not settings.smtp_host:
        await _skip_all(engine, clock.now())
        return 0
    sent = 0
    for outgoing in await _claim(engine, clock.now(), settings):
        try:
            await asyncio.to_thread(_send, settings, outgoing.message)
        except (OSError, smtplib.SMTPException) as error:
            await _failed(engine, outgoing, clock.now(), f"{type(error).__name__}: {error}")
            continue
        await _mark(engine, outgoing.id, status="sent", sent_at=clock.now(), lease_until=None, next_attempt_at=None)
        sent += 1
    return sent


def _send(settings: Settings, message: EmailMessage) -> None:
    assert settings.smtp_host is not None
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_username:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_username, password)
        smtp.send_message(message)


async def _claim(engine: AsyncEngine, now: datetime, settings: Settings) -> list[Outgoing]:
    claimed: list[Outgoing] = []
    async with engine.begin() as conn:
        rows = (
            await conn.execute(
                select(email_outbox)
                .where(email_outbox.c.status == "pending", email_outbox.c.next_attempt_at <= now,
                       or_(email_outbox.c.lease_until.is_(None), email_outbox.c.lease_until < now))
                .order_by(email_outbox.c.next_attempt_at, email_outbox.c.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
        ).all()
        if not rows:
            return []
        await conn.execute(
            update(email_outbox).where(email_outbox.c.id.in_([row.id for row in rows])).values(lease_until=now + LEASE)
        )
        tx = Tx(conn=conn, now=now, actor="system:mail")
        for row in rows:
            claimed.append(Outgoing(row.id, row.attempts, await _message(tx, row, settings)))
    return claimed


async def _message(tx: Tx, row: Any, settings: Settings) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = row.to_address
    message["Subject"] = row.subject
    message.set_content(row.body)
    if row.invoice_id is not None:
        from creditflow.invoices.pdf import render_invoice  # fpdf2 is imported on the first PDF, not at start

        invoice = await get_invoice(tx, row.invoice_id)
        message.add_attachment(render_invoice(invoice), maintype="application", subtype="pdf",
                               filename=f"{invoice.number or invoice.id}.pdf")
    return message


async def _failed(engine: AsyncEngine, outgoing: Outgoing, now: datetime, error: str) -> None:
    attempts = outgoing.attempts + 1
    log.warning("email %s not sent (try %d): %s", outgoing.id, attempts, error)
    if attempts > len(BACKOFF):
        await _mark(engine, outgoing.id, status="failed", attempts=attempts, last_error=error, lease_until=None,
                    next_attempt_at=None)
    else:
        await _mark(engine, outgoing.id, attempts=attempts, last_error=error, lease_until=None,
                    next_attempt_at=now + BACKOFF[attempts - 1])


async def _mark(engine: AsyncEngine, email_id: str, **values: Any) -> None:
    async with engine.begin() as conn:
        await conn.execute(update(email_outbox).where(email_outbox.c.id == email_id).values(**values))


async def _skip_all(engine: AsyncEngine, now: datetime) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            update(email_outbox).where(email_outbox.c.status == "pending")
            .values(status="skipped", last_error="no SMTP server configured (CREDITFLOW_SMTP_HOST)",
                    next_attempt_at=None)
        )
