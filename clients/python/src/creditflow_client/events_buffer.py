"""Usage events buffered and sent with POST /v1/events/batch, from a background thread or task.

Each event gets a `transaction_id` when it has none, so a batch sent again after a lost answer is
answered as duplicates and never charged twice. A batch that cannot be sent stays buffered for the
next flush; events creditflow rejects are kept in `rejected` with their error.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import threading
import uuid
from typing import TYPE_CHECKING, Any

from creditflow_client.errors import CreditflowError

if TYPE_CHECKING:
    from creditflow_client.client import AsyncCreditflow, Creditflow

MAX_BATCH = 1000


def _event(customer: str, metric: str, transaction_id: str | None, fields: dict[str, Any]) -> dict[str, Any]:
    return {"customer": customer, "metric": metric, "transaction_id": transaction_id or uuid.uuid4().hex, **fields}


class _Tally:
    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []
        self.accepted = 0
        self.duplicates = 0
        self.rejected: list[dict[str, Any]] = []
        self.last_error: CreditflowError | None = None

    def take(self, size: int) -> list[dict[str, Any]]:
        batch, self.pending = self.pending[:size], self.pending[size:]
        return batch

    def record(self, answer: Any) -> None:
        self.accepted += answer["accepted"]
        self.duplicates += answer["duplicates"]
        self.rejected.extend(r for r in answer["results"] if r["status"] == "rejected")


class EventBuffer(_Tally):
    """`with cf.event_buffer() as events: events.add("acme", "messages")`; flushed every `interval` seconds."""

    def __init__(self, client: Creditflow, *, interval: float = 1.0, max_batch: int = 500) -> None:
        super().__init__()
        self._client, self._interval, self._max_batch = client, interval, min(max_batch, MAX_BATCH)
        self._lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="creditflow-events", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def add(self, customer: str, metric: str, transaction_id: str | None = None, **fields: Any) -> str:
        event = _event(customer, metric, transaction_id, fields)
        with self._lock:
            self.pending.append(event)
            if len(self.pending) >= self._max_batch:
                self._wake.set()
        return event["transaction_id"]

    def flush(self) -> None:
        """Send everything buffered now; raises the last error if some could not be sent."""
        with self._send_lock:
            while True:
                with self._lock:
                    batch = self.take(self._max_batch)
                if not batch:
                    return
                try:
                    answer = self._client.events.batch(events=batch)
                except CreditflowError as exc:
                    with self._lock:
                        self.pending[:0] = batch
                    self.last_error = exc
                    raise
                self.record(answer)

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except CreditflowError:
                continue  # kept buffered; `last_error` says why

    def close(self) -> None:
        if not self._stopped:
            self._stopped = True
            self._wake.set()
            self._thread.join()
            atexit.unregister(self.close)
        self.flush()

    def __enter__(self) -> EventBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncEventBuffer(_Tally):
    """`async with cf.event_buffer() as events: events.add(...)`; flushed every `interval` seconds."""

    def __init__(self, client: AsyncCreditflow, *, interval: float = 1.0, max_batch: int = 500) -> None:
        super().__init__()
        self._client, self._interval, self._max_batch = client, interval, min(max_batch, MAX_BATCH)
        self._send_lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run())

    def add(self, customer: str, metric: str, transaction_id: str | None = None, **fields: Any) -> str:
        event = _event(customer, metric, transaction_id, fields)
        self.pending.append(event)
        if len(self.pending) >= self._max_batch:
            self._wake.set()
        return event["transaction_id"]

    async def flush(self) -> None:
        async with self._send_lock:
            while batch := self.take(self._max_batch):
                try:
                    answer = await self._client.events.batch(events=batch)
                except CreditflowError as exc:
                    self.pending[:0] = batch
                    self.last_error = exc
                    raise
                self.record(answer)

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._interval)
            self._wake.clear()
            try:
                await self.flush()
            except CreditflowError:
                continue

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self.flush()

    async def __aenter__(self) -> AsyncEventBuffer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
