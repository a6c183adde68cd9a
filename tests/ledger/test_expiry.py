"""Lazy expiry (ledger/expiry.py): a transaction that touches a wallet first releases its expired holds and
sweeps its expired lots, so nothing expired is ever spent or reserved."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from creditflow import money
from creditflow.db.tables import credit_grants, holds, operations, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.ledger.expiry import EXPIRY_ACTOR, lock_and_sweep
from tests.factories import debit, grant, hold, make_customer

M = money.parse


@contextlib.asynccontextmanager
async def _tx(app) -> AsyncIterator[Tx]:
    async with app.state.engine.begin() as conn:
        yield Tx(conn=conn, now=app.state.clock.now(), actor="test")


async def _wallet_id(app, customer: str) -> str:
    async with _tx(app) as tx:
        return (await tx.conn.execute(select(wallets.c.id).where(wallets.c.customer_id == customer))).scalar_one()


async def _rows(app, query: Any) -> list[Any]:
    async with _tx(app) as tx:
        return list((await tx.conn.execute(query)).all())


async def _expiring_and_lasting(client, clock) -> tuple[str, str, str]:
    """A customer with 5 expiring in an hour (drawn first) and 5 that never expire."""
    customer = (await make_customer(client))["id"]
    in_an_hour = (clock.now() + timedelta(hours=1)).isoformat()
    expiring = await grant(client, customer, "5", priority=10, expires_at=in_an_hour)
    lasting = await grant(client, customer, "5", priority=50)
    return customer, expiring["id"], lasting["id"]


async def test_an_expired_lot_is_never_spent(client, clock):
    customer, _, lasting = await _expiring_and_lasting(client, clock)
    clock.advance(hours=1)
    assert (await debit(client, customer, "5.01")).status_code == 402
    response = await debit(client, customer, "5")
    assert response.status_code == 201, response.text
    assert [(d["grant"], d["amount"]) for d in response.json()["drawn"]] == [(lasting, "5.00")]


async def test_an_expired_lot_is_never_reserved(client, clock):
    customer, _, _ = await _expiring_and_lasting(client, clock)
    clock.advance(hours=1)
    assert (await hold(client, customer, "5.01")).status_code == 402
    assert (await hold(client, customer, "5")).status_code == 201


async def test_touching_a_wallet_sends_the_unheld_remainder_of_an_expired_lot_to_breakage(client, app, clock):
    customer, expiring, _ = await _expiring_and_lasting(client, clock)
    assert (await debit(client, customer, "2")).status_code == 201
    clock.advance(hours=1)
    assert (await debit(client, customer, "1")).status_code == 201
    moved = await _rows(
        app,
        select(transfers.c.debit_account_id, transfers.c.credit_account_id, transfers.c.amount, transfers.c.kind)
        .where(transfers.c.kind == "expiry"),
    )
    assert [tuple(r) for r in moved] == [(expiring, "sys_breakage_USD", M("3"), "expiry")]
    [lot] = await _rows(
        app, select(credit_grants.c.status, credit_grants.c.ended_at).where(credit_grants.c.id == expiring)
    )
    assert (lot.status, lot.ended_at) == ("expired", clock.now())
    [op] = await _rows(app, select(operations.c.actor, operations.c.amount).where(operations.c.kind == "expiry"))
    assert (op.actor, op.amount) == (EXPIRY_ACTOR, M("3"))


async def test_an_expired_hold_is_released_before_availability_is_computed(client, app, clock):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10")
    created = (await hold(client, customer, "10", expires_in=60)).json()
    assert (await debit(client, customer, "1")).status_code == 402
    clock.advance(seconds=60)
    response = await debit(client, customer, "10")
    assert response.status_code == 201, response.text
    [row] = await _rows(app, select(holds.c.status).where(holds.c.id == created["id"]))
    assert row.status == "expired"
    [op] = await _rows(app, select(operations.c.actor).where(operations.c.kind == "hold_expiry"))
    assert op.actor == EXPIRY_ACTOR


async def test_the_held_part_of_an_expired_lot_stays_reserved_for_its_hold(client, clock):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    created = (await hold(client, customer, "6", expires_in=7200)).json()
    clock.advance(hours=1)
    response = await client.post(f"/v1/holds/{created['id']}/capture", json={"amount": "2.5", "final": False})
    assert response.status_code == 200, response.text
    assert response.json()["wallet"] == {"posted": "3.50", "held": "3.50", "available": "0.00"}
    assert response.json()["breakage"] == "0.00"


async def test_a_held_part_of_a_voided_lot_goes_to_breakage_when_the_hold_releases_it(client, app):
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10"))["id"]
    created = (await hold(client, customer, "4")).json()
    assert (await client.post(f"/v1/credit_grants/{lot}/void")).status_code == 200
    assert (await client.post(f"/v1/holds/{created['id']}/void")).status_code == 200
    moved = await _rows(
        app, select(transfers.c.debit_account_id, transfers.c.credit_account_id, transfers.c.amount, transfers.c.kind)
        .where(transfers.c.kind == "breakage"),
    )
    assert [tuple(r) for r in moved] == [(lot, "sys_breakage_USD", M("4"), "breakage")]


async def test_lock_and_sweep_does_nothing_before_anything_is_due(client, app, clock):
    customer, expiring, _ = await _expiring_and_lasting(client, clock)
    wallet_id = await _wallet_id(app, customer)
    clock.advance(minutes=59)
    async with _tx(app) as tx:
        before = (await tx.conn.execute(select(func.count()).select_from(transfers))).scalar()
        await lock_and_sweep(tx, wallet_id)
        after = (await tx.conn.execute(select(func.count()).select_from(transfers))).scalar()
    assert after == before
    [lot] = await _rows(app, select(credit_grants.c.status).where(credit_grants.c.id == expiring))
    assert lot.status == "active"


async def test_lock_and_sweep_twice_expires_once(client, app, clock):
    customer, _, _ = await _expiring_and_lasting(client, clock)
    wallet_id = await _wallet_id(app, customer)
    clock.advance(hours=2)
    async with _tx(app) as tx:
        first = await lock_and_sweep(tx, wallet_id)
    async with _tx(app) as tx:
        second = await lock_and_sweep(tx, wallet_id)
    assert first is not None and second is not None
    assert (first.posted, first.held, first.next_expiry_at) == (M("5"), 0, None)
    assert (second.posted, second.held) == (M("5"), 0)
    assert len(await _rows(app, select(transfers.c.id).where(transfers.c.kind == "expiry"))) == 1


async def test_lock_and_sweep_of_unknown_wallet_is_none(app):
    async with _tx(app) as tx:
        assert await lock_and_sweep(tx, "wal_missing") is None
