"""Running synchronous SDK calls off the event loop, under a deadline, with errors translated."""

from __future__ import annotations

import threading
import time

import pytest
import requests

from creditflow.payments.gateways import blocking
from creditflow.payments.gateways.errors import GatewayRefused, GatewayUnavailable


def no_translation(exc: Exception) -> None:
    return None


async def test_the_call_runs_in_a_worker_thread() -> None:
    caller = threading.get_ident()
    assert await blocking.call("gw", threading.get_ident, deadline=1, translate=no_translation) != caller


async def test_a_call_past_its_deadline_is_unavailable() -> None:
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable):
        await blocking.call("gw", lambda: time.sleep(2), deadline=0.2, translate=no_translation)
    assert time.monotonic() - started < 1


async def test_errors_are_translated_or_left_alone() -> None:
    def refuse() -> None:
        raise KeyError("nope")

    def translate(exc: Exception) -> GatewayRefused | None:
        return GatewayRefused("gw", "refused") if isinstance(exc, KeyError) else None

    with pytest.raises(GatewayRefused):
        await blocking.call("gw", refuse, deadline=1, translate=translate)
    with pytest.raises(ZeroDivisionError):
        await blocking.call("gw", lambda: 1 / 0, deadline=1, translate=translate)


def test_network_errors_are_transient() -> None:
    assert isinstance(blocking.network_error("gw", requests.ConnectionError("refused")), GatewayUnavailable)
    assert blocking.network_error("gw", ValueError("not ours")) is None


def test_the_session_adds_a_timeout_only_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[object] = []
    monkeypatch.setattr(requests.Session, "request", lambda self, method, url, **kw: seen.append(kw["timeout"]))
    session = blocking.TimeoutSession(4.0)
    session.request("GET", "http://x")
    session.request("GET", "http://x", timeout=None)
    session.request("GET", "http://x", timeout=1.5)
    assert seen == [4.0, 4.0, 1.5]
