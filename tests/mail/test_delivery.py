"""src/creditflow/mail/delivery.py against a real local SMTP server: emails queued with what they tell of are
sent by the job runner, the top-up receipt carries its invoice's PDF, a server that refuses is retried with
backoff, and without an SMTP server emails are marked skipped."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

from pypdf import PdfReader
from sqlalchemy import select

from creditflow.config import Settings
from creditflow.db.tables import email_outbox
from creditflow.mail.delivery import BACKOFF, deliver_pending
from tests.factories import customer_id
from tests.topups.support import deliver, open_topup, sandbox_notification


async def _outbox(app) -> list[tuple[str, str, int]]:
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(select(email_outbox.c.kind, email_outbox.c.status, email_outbox.c.attempts))
        return sorted((row.kind, row.status, row.attempts) for row in rows)


async def _paid_topup(app, client, customer: str) -> None:
    opened = await open_topup(client, customer, "sandbox", amount="100000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))


async def test_a_top_up_receipt_is_sent_with_its_invoice_attached(app, client, smtp) -> None:
    customer = await customer_id(client, currency="IDR", email="ayu@example.com", name="Ayu")
    await _paid_topup(app, client, customer)
    assert smtp.messages == []  # queued with the credit, sent by the job runner
    await app.state.jobs.run_once()
    [received] = smtp.messages
    assert (received["To"], received["From"]) == ("ayu@example.com", "billing@creditflow.test")
    assert received["Subject"] == "Receipt for your top-up of 111000.00 IDR"
    body, attachment = [part for part in received.walk() if not part.is_multipart()]
    assert "added 100000.00 IDR to your balance" in body.get_content()
    assert attachment.get_content_type() == "application/pdf"
    text = PdfReader(BytesIO(attachment.get_payload(decode=True))).pages[0].extract_text()
    assert "111,000.00" in text or "111000.00" in text
    await app.state.jobs.run_once()
    assert len(smtp.messages) == 1
    assert await _outbox(app) == [("topup_receipt", "sent", 0)]


async def test_a_customer_without_an_email_address_gets_none(app, client, smtp) -> None:
    customer = await customer_id(client, currency="IDR")
    await _paid_topup(app, client, customer)
    await app.state.jobs.run_once()
    assert smtp.messages == []
    assert await _outbox(app) == []


async def test_a_refusing_server_is_retried_with_backoff_until_it_accepts(app, client, clock, smtp) -> None:
    customer = await customer_id(client, currency="IDR", email="ayu@example.com")
    await _paid_topup(app, client, customer)
    smtp.refuse_next = 2
    await app.state.jobs.run_once()
    assert await _outbox(app) == [("topup_receipt", "pending", 1)]
    await app.state.jobs.run_once()  # not due before the backoff has passed
    assert await _outbox(app) == [("topup_receipt", "pending", 1)]
    clock.advance(seconds=BACKOFF[0].total_seconds())
    await app.state.jobs.run_once()
    assert await _outbox(app) == [("topup_receipt", "pending", 2)]
    clock.advance(seconds=BACKOFF[1].total_seconds())
    await app.state.jobs.run_once()
    assert await _outbox(app) == [("topup_receipt", "sent", 2)]
    assert len(smtp.messages) == 1


async def test_after_the_last_try_an_email_is_failed(app, client, clock, smtp) -> None:
    customer = await customer_id(client, currency="IDR", email="ayu@example.com")
    await _paid_topup(app, client, customer)
    smtp.refuse_next = len(BACKOFF) + 1
    for wait in (timedelta(0), *BACKOFF):
        clock.advance(seconds=wait.total_seconds())
        await deliver_pending(app.state.engine, app.state.clock, app.state.settings)
    assert await _outbox(app) == [("topup_receipt", "failed", len(BACKOFF) + 1)]
    assert smtp.messages == []


async def test_without_an_smtp_server_emails_are_skipped(app, client, database_url) -> None:
    customer = await customer_id(client, currency="IDR", email="ayu@example.com")
    await _paid_topup(app, client, customer)
    await deliver_pending(app.state.engine, app.state.clock, Settings(database_url=database_url, jobs_enabled=False))
    assert await _outbox(app) == [("topup_receipt", "skipped", 0)]
