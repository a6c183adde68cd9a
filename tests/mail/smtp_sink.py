"""A real SMTP server for tests (aiosmtpd on a free local port) that keeps every message it accepts, and can
refuse the next ones with a temporary error."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from creditflow.config import Settings


@dataclass
class SmtpSink:
    messages: list[EmailMessage] = field(default_factory=list)
    refuse_next: int = 0
    port: int = 0

    # aiosmtpd calls handle_<SMTP command> on its handler.
    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.refuse_next:
            self.refuse_next -= 1
            return "451 4.3.0 try again later"
        content = envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        self.messages.append(email.message_from_bytes(content, _class=EmailMessage, policy=email.policy.default))
        return "250 OK"

    def settings(self, database_url: str) -> Settings:
        return Settings(database_url=database_url, jobs_enabled=False, smtp_host="127.0.0.1", smtp_port=self.port,
                        smtp_from="billing@creditflow.test")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[SmtpSink]:
    sink = SmtpSink(port=_free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def settings(database_url: str, smtp: SmtpSink) -> Settings:
    return smtp.settings(database_url)
