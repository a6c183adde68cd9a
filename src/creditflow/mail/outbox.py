"""Emails are written to an outbox in the transaction of what they tell of (never sent from inside it), and
the job runner sends them (mail/delivery.py). A customer without an email address gets none."""

from __future__ import annotations

from sqlalchemy import select

from creditflow.db.tables import customers, email_outbox
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.mail.messages import Message


async def queue_for_customer(tx: Tx, customer_id: str, message: Message) -> str | None:
    """Queue `message` to the customer's address; returns the email's id, or None without an address."""
    address = (
        await tx.conn.execute(select(customers.c.email).where(customers.c.id == customer_id))
    ).scalar_one_or_none()
    if not address:
        return None
    email_id = new_id("eml")
    await tx.conn.execute(
        email_outbox.insert().values(
            id=email_id, customer_id=customer_id, kind=message.kind, to_address=address,
            subject=message.subject, body=message.body, invoice_id=message.invoice_id, status="pending",
            attempts=0, next_attempt_at=tx.now, created_at=tx.now,
        )
    )
    return email_id
