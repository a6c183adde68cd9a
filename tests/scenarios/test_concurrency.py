"""No overdraft and no double spend under real concurrency: several OS processes, one wallet.

Each scenario funds a wallet for exactly 20 operations, then fires from 4 spawned processes at once
(see procs.py). Runs on SQLite and PostgreSQL through the `database_url` fixture.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from creditflow.app import create_app
from creditflow.clock import SystemClock
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tx import Tx
from creditflow.keys.service import create_key
from creditflow.ledger.check import find_discrepancies
from tests.factories import grant, make_customer, wallet
from tests.scenarios.procs import Answer, Call, fire_from_processes

UNIT_PRICE = "0.100001"
FUNDED_FOR = 20
FUNDS = "2.000020"  # exactly 20 x UNIT_PRICE
ATTEMPTS = 50


@asynccontextmanager
async def operator(database_url: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """The parent's own API client on the real clock, and the operator key it hands to the children."""
    app = create_app(Settings(database_url=database_url, jobs_enabled=False), clock=SystemClock())
    try:
        async with app.state.engine.begin() as conn:
            _, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "concurrency")
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
            headers={"Authorization": f"Bearer {secret}"},
        ) as client:
            yield client, secret
    finally:
        await app.state.engine.dispose()


async def discrepancies(database_url: str) -> list[str]:
    engine = create_engine(Settings(database_url=database_url), pooled=False)
    try:
        async with engine.begin() as conn:
            return await find_discrepancies(Tx(conn=conn, now=SystemClock().now(), actor="test"))
    finally:
        await engine.dispose()


async def fire(database_url: str, key: str, calls: list[Call]) -> list[Answer]:
    return await asyncio.to_thread(fire_from_processes, database_url, key, calls)


async def funded_customer(client: httpx.AsyncClient) -> str:
    customer = await make_customer(client)
    await grant(client, customer["id"], FUNDS)
    return customer["id"]


async def test_concurrent_debits_from_many_processes_never_overdraw(database_url):
    async with operator(database_url) as (client, key):
        customer = await funded_customer(client)
        calls = [Call("/v1/debits", {"customer": customer, "amount": UNIT_PRICE}, {}) for _ in range(ATTEMPTS)]

        answers = await fire(database_url, key, calls)

        assert Counter(a.status for a in answers) == {201: FUNDED_FOR, 402: ATTEMPTS - FUNDED_FOR}
        assert {a.body["error"]["code"] for a in answers if a.status == 402} == {"insufficient_funds"}
        assert len({a.body["id"] for a in answers if a.status == 201}) == FUNDED_FOR
        balance = await wallet(client, customer)
        assert (balance["posted"], balance["held"], balance["available"]) == ("0.00", "0.00", "0.00")
        assert await discrepancies(database_url) == []


async def test_concurrent_holds_from_many_processes_never_reserve_more_than_available(database_url):
    async with operator(database_url) as (client, key):
        customer = await funded_customer(client)
        calls = [Call("/v1/holds", {"customer": customer, "amount": UNIT_PRICE}, {}) for _ in range(ATTEMPTS)]

        answers = await fire(database_url, key, calls)

        assert Counter(a.status for a in answers) == {201: FUNDED_FOR, 402: ATTEMPTS - FUNDED_FOR}
        assert {a.body["error"]["code"] for a in answers if a.status == 402} == {"insufficient_funds"}
        assert {a.body["status"] for a in answers if a.status == 201} == {"active"}
        balance = await wallet(client, customer)
        assert (balance["posted"], balance["held"], balance["available"]) == ("2.00002", "2.00002", "0.00")
        assert balance["lots"][0]["held"] == balance["lots"][0]["remaining"]
        assert await discrepancies(database_url) == []


async def test_one_debit_retried_from_many_processes_with_one_key_moves_money_once(database_url):
    async with operator(database_url) as (client, key):
        customer = await make_customer(client)
        await grant(client, customer["id"], "10.00")
        body = {"customer": customer["id"], "amount": "1.25"}
        headers = {"Idempotency-Key": f"retry-{uuid.uuid4().hex}"}
        calls = [Call("/v1/debits", body, headers) for _ in range(10)]

        answers = await fire(database_url, key, calls)

        assert set(Counter(a.status for a in answers)) <= {201, 409}
        assert {a.body["error"]["code"] for a in answers if a.status == 409} <= {"idempotency_key_in_use"}
        created = [a for a in answers if a.status == 201]
        assert len([a for a in created if not a.replayed]) == 1
        assert len({a.body["id"] for a in created}) == 1
        later = await client.post("/v1/debits", json=body, headers=headers)
        assert later.status_code == 201
        assert later.headers["Idempotent-Replayed"] == "true"
        assert later.json()["id"] == created[0].body["id"]
        assert (await wallet(client, customer["id"]))["posted"] == "8.75"
        assert await discrepancies(database_url) == []
