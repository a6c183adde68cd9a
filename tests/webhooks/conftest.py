"""The webhook tests' receiver: a real HTTP server that verifies every signature (see support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from creditflow.clock import ManualClock
from tests.webhooks.support import Receiver, follow_clock, start_receiver


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch, clock: ManualClock) -> Iterator[Receiver]:
    follow_clock(monkeypatch, clock)
    found, server = start_receiver()
    yield found
    server.shutdown()
    server.server_close()
