"""A real HTTP receiver for webhook tests, and helpers to make endpoints and run deliveries.

The receiver is an ordinary threaded HTTP server on 127.0.0.1. It checks every request with the
standardwebhooks library's own `Webhook(secret).verify` (signature and timestamp), records what passed
and what did not, and answers each path from a script (500, 500, then 200, ...).

The library checks the timestamp against its "now" with a 5-minute tolerance. Tests move an injected
clock days ahead instead of sleeping, so the receiver lives in the test's time: `follow_clock` points the
library's `now` at that clock. The signature check itself is untouched.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks import Webhook
from standardwebhooks import webhooks as standardwebhooks_module
from standardwebhooks.webhooks import WebhookVerificationError

from creditflow.clock import Clock
from creditflow.webhooks.jobs import deliver_due
from tests.factories import ok

HANG = "hang"


@dataclass(slots=True, frozen=True)
class Received:
    path: str
    webhook_id: str
    timestamp: int
    body: str
    payload: dict[str, Any]


@dataclass(slots=True)
class Receiver:
    """Endpoints at http://127.0.0.1:<port>/<path>; `expect` registers one with its secret and answers."""

    base_url: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    scripts: dict[str, list[int | str]] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Seconds each answer takes, so that concurrent senders really overlap.
    delay: float = 0.0

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def expect(self, path: str, secret: str, answers: list[int | str] | None = None) -> None:
        """Verify requests to `path` with `secret`; answer `answers` in order (HANG: no answer), then 200."""
        with self.lock:
            self.secrets[path] = secret
            self.scripts[path] = list(answers or [])

    def answer_next(self, path: str, answers: list[int | str]) -> None:
        with self.lock:
            self.scripts[path] = list(answers)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]

    def _handle(self, path: str, headers: dict[str, str], body: bytes) -> int | str:
        with self.lock:
            secret = self.secrets.get(path)
            script = self.scripts.get(path)
        if secret is None or script is None:
            return 404
        try:
            payload = Webhook(secret).verify(body, headers)
        except WebhookVerificationError as exc:
            with self.lock:
                self.rejected.append((path, str(exc)))
            return 400
        with self.lock:
            self.received.append(
                Received(path, headers["webhook-id"], int(headers["webhook-timestamp"]), body.decode(), payload)
            )
            return script.pop(0) if script else 200


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = receiver._handle(self.path.lstrip("/"), headers, body)
            time.sleep(receiver.delay)
            if answer == HANG:
                time.sleep(2)
                answer = 200
            assert isinstance(answer, int)
            text = b"receiver says no" if answer >= 300 else b"ok"
            self.send_response(answer)
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, *args: Any) -> None:
            return

    return Handler


def follow_clock(monkeypatch: pytest.MonkeyPatch, clock: Clock) -> None:
    """Make the standardwebhooks library's "now" the test clock's (see the module docstring)."""

    class ClockDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> ClockDatetime:  # type: ignore[override]
            moment = clock.now() if tz is None else clock.now().astimezone(tz)
            return cls.fromtimestamp(moment.timestamp(), tz=moment.tzinfo)

    monkeypatch.setattr(standardwebhooks_module, "datetime", ClockDatetime)


def start_receiver() -> tuple[Receiver, ThreadingHTTPServer]:
    found = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(found))
    server.daemon_threads = True
    found.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return found, server


async def make_endpoint(
    client: httpx.AsyncClient, receiver: Receiver, path: str, events: list[str],
    answers: list[int | str] | None = None,
) -> dict[str, Any]:
    """An endpoint at the receiver's `path`, which the receiver verifies with the endpoint's secret."""
    endpoint = ok(await client.post("/v1/webhook_endpoints", json={"url": receiver.url(path), "events": events}), 201)
    receiver.expect(path, endpoint["secret"], answers)
    return endpoint


async def deliver(app: Any, **options: Any) -> int:
    """One pass of the delivery job at the app's clock."""
    return await deliver_due(app.state.engine, app.state.clock, **options)


async def events_of(client: httpx.AsyncClient, event_type: str | None = None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"limit": 100}
    if event_type is not None:
        params["type"] = event_type
    return ok(await client.get("/v1/webhook_events", params=params))["data"]


async def event_detail(client: httpx.AsyncClient, event_id: str) -> dict[str, Any]:
    return ok(await client.get(f"/v1/webhook_events/{event_id}"))


def seconds(moment: str) -> int:
    return int(datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp())
