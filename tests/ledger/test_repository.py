"""ledger/repository.py: the draw order, identical on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from creditflow.db.tx import Tx
from creditflow.ledger.repository import spendable_lots
from tests.factories import debit, grant, make_customer


async def _lots_in_known_order(client, clock) -> tuple[str, list[str]]:
    """Lots created so that every tie-break of the draw order matters; returns them in the expected order."""
    customer = (await make_customer(client))["id"]
    now = clock.now()

    async def lot(priority: int, expires_in_days: int | None = None) -> str:
        expires_at = None if expires_in_days is None else (now + timedelta(days=expires_in_days)).isoformat()
        return (await grant(client, customer, "1", priority=priority, expires_at=expires_at))["id"]

    # created at t0
    a = await lot(50)
    b = await lot(50, expires_in_days=10)
    f = await lot(50)  # same priority, no expiry and same created_at as a: the id breaks the tie
    h = await lot(50, expires_in_days=5)
    clock.advance(seconds=1)
    # created at t1
    c = await lot(10)  # the lowest priority number goes first, even without expiry
    d = await lot(50)
    e = await lot(50, expires_in_days=5)  # same expiry as h, but newer
    p = await lot(90, expires_in_days=1)
    return customer, [c, h, e, b, a, f, d, p]


async def test_draw_order_is_priority_then_soonest_expiry_with_none_last_then_age_then_id(client, app, clock):
    customer, expected = await _lots_in_known_order(client, clock)
    wallet_id = (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["id"]
    async with app.state.engine.begin() as conn:
        lots = await spendable_lots(Tx(conn=conn, now=clock.now(), actor="test"), wallet_id)
    assert [lot.account_id for lot in lots] == expected


async def test_a_debit_spanning_every_lot_draws_them_in_draw_order(client, clock):
    customer, expected = await _lots_in_known_order(client, clock)
    response = await debit(client, customer, "8")
    assert response.status_code == 201, response.text
    assert [d["grant"] for d in response.json()["drawn"]] == expected


async def test_the_wallet_lists_its_lots_in_draw_order(client, clock):
    customer, expected = await _lots_in_known_order(client, clock)
    lots = (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["lots"]
    assert [lot["id"] for lot in lots] == expected


async def test_spendable_lots_leave_out_fully_held_lots(client, app, clock):
    customer = (await make_customer(client))["id"]
    held = (await grant(client, customer, "2", priority=1))["id"]
    free = (await grant(client, customer, "2", priority=2))["id"]
    assert (await client.post("/v1/holds", json={"customer": customer, "amount": "2"})).status_code == 201
    wallet_id = (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["id"]
    async with app.state.engine.begin() as conn:
        lots = await spendable_lots(Tx(conn=conn, now=clock.now(), actor="test"), wallet_id)
    assert [lot.account_id for lot in lots] == [free]
    assert held != free
