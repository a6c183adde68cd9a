"""jobs/expiry.py: the periodic sweep applies due expiry to wallets nobody touches; safe to run repeatedly
and from several runners at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from creditflow import money
from creditflow.db.engine import create_engine
from creditflow.db.tables import credit_grants, holds, operations, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.jobs.expiry import sweep_due_wallets
from creditflow.ledger.check import find_discrepancies
from creditflow.ledger.expiry import EXPIRY_ACTOR
from tests.factories import debit, grant, hold, make_customer

M = money.parse


async def _rows(app, query: Any) -> list[Any]:
    async with app.state.engine.connect() as conn:
        return list((await conn.execute(query)).all())


async def _count(app, query: Any) -> int:
    [row] = await _rows(app, select(func.count()).select_from(query.subquery()))
    return row[0]


async def _idle_customer(client, clock) -> dict[str, str]:
    """10 expiring in an hour (3 spent), and a hold of 2 expiring in ten minutes."""
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10", expires_at=(clock.now() + timedelta(hours=1)).isoformat()))["id"]
    assert (await debit(client, customer, "3")).status_code == 201
    created = (await hold(client, customer, "2")).json()["id"]
    wallet_id = (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["id"]
    return {"customer": customer, "lot": lot, "hold": created, "wallet": wallet_id}


async def _wallet(app, wallet_id: str) -> tuple[int, int]:
    [row] = await _rows(app, select(wallets.c.posted, wallets.c.held).where(wallets.c.id == wallet_id))
    return row.posted, row.held


async def _problems(app) -> list[str]:
    async with app.state.engine.begin() as conn:
        return await find_discrepancies(Tx(conn=conn, now=app.state.clock.now(), actor="test"))


async def test_sweep_releases_expired_holds_of_idle_wallets(client, app, clock):
    idle = await _idle_customer(client, clock)
    clock.advance(minutes=10)
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 1
    [row] = await _rows(app, select(holds.c.status, holds.c.ended_at).where(holds.c.id == idle["hold"]))
    assert (row.status, row.ended_at) == ("expired", clock.now())
    assert await _wallet(app, idle["wallet"]) == (M("7"), 0)
    [op] = await _rows(app, select(operations.c.actor).where(operations.c.kind == "hold_expiry"))
    assert op.actor == EXPIRY_ACTOR


async def test_sweep_expires_lots_of_idle_wallets_to_breakage(client, app, clock):
    idle = await _idle_customer(client, clock)
    clock.advance(hours=1)
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 1
    [lot] = await _rows(app, select(credit_grants.c.status).where(credit_grants.c.id == idle["lot"]))
    assert lot.status == "expired"
    moved = await _rows(app, select(transfers.c.debit_account_id, func.sum(transfers.c.amount))
                        .where(transfers.c.credit_account_id == "sys_breakage_USD")
                        .group_by(transfers.c.debit_account_id))
    assert [tuple(r) for r in moved] == [(idle["lot"], M("7"))]  # 5 unheld, then 2 the expired hold released
    assert await _wallet(app, idle["wallet"]) == (0, 0)
    [row] = await _rows(app, select(wallets.c.next_expiry_at).where(wallets.c.id == idle["wallet"]))
    assert row.next_expiry_at is None
    assert await _problems(app) == []


async def test_sweep_leaves_wallets_with_nothing_due(client, app, clock):
    idle = await _idle_customer(client, clock)
    lasting = (await make_customer(client))["id"]
    await grant(client, lasting, "5")
    clock.advance(minutes=9)
    before = await _count(app, select(transfers.c.id))
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 0
    assert await _count(app, select(transfers.c.id)) == before
    [row] = await _rows(app, select(holds.c.status).where(holds.c.id == idle["hold"]))
    assert row.status == "active"


async def test_sweep_twice_gives_the_same_result(client, app, clock):
    for _ in range(3):
        await _idle_customer(client, clock)
    clock.advance(hours=2)
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 3
    snapshot = await _rows(app, select(transfers.c.id).order_by(transfers.c.id))
    assert await sweep_due_wallets(app.state.engine, clock.now()) == 0
    assert await _rows(app, select(transfers.c.id).order_by(transfers.c.id)) == snapshot
    assert await _problems(app) == []


async def test_concurrent_sweeps_expire_each_wallet_once(client, app, clock, settings):
    idle = [await _idle_customer(client, clock) for _ in range(6)]
    clock.advance(hours=2)
    engines = [create_engine(settings), create_engine(settings)]
    try:
        swept = await asyncio.gather(*(sweep_due_wallets(engine, clock.now()) for engine in engines))
    finally:
        for engine in engines:
            await engine.dispose()
    assert sum(swept) == len(idle)
    assert await _count(app, select(transfers.c.id).where(transfers.c.kind == "expiry")) == len(idle)
    assert await _count(app, select(operations.c.id).where(operations.c.kind == "hold_expiry")) == len(idle)
    for customer in idle:
        assert await _wallet(app, customer["wallet"]) == (0, 0)
    assert await _problems(app) == []


async def test_a_swept_wallet_answers_requests_as_if_swept_lazily(client, app, clock):
    idle = await _idle_customer(client, clock)
    clock.advance(hours=1)
    await sweep_due_wallets(app.state.engine, clock.now())
    before = await _count(app, select(transfers.c.id))
    [w] = (await client.get(f"/v1/customers/{idle['customer']}/wallets")).json()["data"]
    assert (w["posted"], w["held"], w["available"], w["lots"]) == ("0.00", "0.00", "0.00", [])
    assert await _count(app, select(transfers.c.id)) == before
