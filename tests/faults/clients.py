"""Clients that never give up: each request carries an Idempotency-Key and is retried with the same key
until it gets an answer that is not a crash (connection refused or reset, 5xx, key still in flight).
What they were answered is the record the ledger is checked against afterwards."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

RETRY_PAUSE = 0.1


@dataclass
class Record:
    """Every 2xx answer, by Idempotency-Key: (kind, customer, amount in micro-units, body)."""

    answered: dict[str, tuple[str, str, int, dict[str, Any]]] = field(default_factory=dict)
    retries: int = 0

    def of_kind(self, kind: str) -> list[tuple[str, str, int, dict[str, Any]]]:
        return [a for a in self.answered.values() if a[0] == kind]


async def send(http: httpx.AsyncClient, record: Record, kind: str, customer: str, micros: int, path: str,
               body: dict[str, Any]) -> dict[str, Any] | None:
    """POST until answered; the 2xx answer is recorded under its key, a final 4xx returns None."""
    key = f"{kind}-{uuid.uuid4().hex}"
    while True:
        try:
            response = await http.post(path, json=body, headers={"Idempotency-Key": key}, timeout=15)
        except httpx.TransportError:
            record.retries += 1
            await asyncio.sleep(RETRY_PAUSE)
            continue
        if response.status_code >= 500 or (
            response.status_code == 409 and response.json()["error"]["code"] == "idempotency_key_in_use"
        ):
            record.retries += 1
            await asyncio.sleep(RETRY_PAUSE)
            continue
        if response.status_code >= 300:
            return None
        document = response.json()
        record.answered[key] = (kind, customer, micros, document)
        return document


async def spend(base: str, token: str, customer: str, record: Record, stop: asyncio.Event) -> None:
    """Debits and holds captured for less than they reserved, until `stop`; every started step finishes."""
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as http:
        while not stop.is_set():
            await send(http, record, "debit", customer, 10_000, "/v1/debits",
                       {"customer": customer, "amount": "0.01"})
            held = await send(http, record, "hold", customer, 0, "/v1/holds",
                              {"customer": customer, "amount": "0.02"})
            if held is not None:
                await send(http, record, "capture", customer, 15_000, f"/v1/holds/{held['id']}/capture",
                           {"amount": "0.015"})
