"""ledger/journal.py: one operation's transfers and reservations, posted atomically with cached balances."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from creditflow import money
from creditflow.db.tables import accounts, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.errors import InsufficientFunds
from creditflow.ids import new_id
from creditflow.ledger.journal import Journal
from creditflow.ledger.repository import insert_operation
from tests.factories import grant, make_customer

M = money.parse


@contextlib.asynccontextmanager
async def _tx(app) -> AsyncIterator[Tx]:
    async with app.state.engine.begin() as conn:
        yield Tx(conn=conn, now=app.state.clock.now(), actor="test")


async def _lot(client) -> tuple[str, str]:
    """A customer's wallet id and one lot of 10."""
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10"))["id"]
    return (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["id"], lot


async def _journal(tx: Tx, wallet_id: str) -> Journal:
    operation_id = new_id("op")
    await insert_operation(tx, id=operation_id, kind="adjustment", unit="USD", amount=0, customer_id=None,
                           wallet_id=wallet_id)
    return Journal(tx, operation_id=operation_id, unit="USD", wallet_id=wallet_id)


async def _balances(tx: Tx, *account_ids: str) -> list[tuple[int, int]]:
    rows = await tx.conn.execute(select(accounts.c.id, accounts.c.posted, accounts.c.held).where(
        accounts.c.id.in_(account_ids)))
    found = {r.id: (r.posted, r.held) for r in rows}
    return [found[a] for a in account_ids]


async def test_post_writes_each_transfer_and_moves_cached_balances(client, app):
    wallet_id, lot = await _lot(client)
    async with _tx(app) as tx:
        journal = await _journal(tx, wallet_id)
        journal.transfer(lot, "sys_revenue_USD", M("3"), "debit")
        state = await journal.post()
        rows = (await tx.conn.execute(select(transfers).where(transfers.c.operation_id == journal.operation_id))).all()
        assert await _balances(tx, lot) == [(M("7"), 0)]
    assert [(r.debit_account_id, r.credit_account_id, r.amount, r.unit, r.kind) for r in rows] == [
        (lot, "sys_revenue_USD", M("3"), "USD", "debit")
    ]
    assert state is not None and (state.posted, state.held) == (M("7"), 0)


async def test_system_accounts_keep_no_cached_balance(client, app):
    wallet_id, lot = await _lot(client)
    async with _tx(app) as tx:
        journal = await _journal(tx, wallet_id)
        journal.transfer(lot, "sys_revenue_USD", M("3"), "debit")
        await journal.post()
        assert await _balances(tx, "sys_revenue_USD", "sys_topups_USD") == [(0, 0), (0, 0)]


async def test_reservations_change_held_but_not_posted(client, app):
    wallet_id, lot = await _lot(client)
    async with _tx(app) as tx:
        journal = await _journal(tx, wallet_id)
        journal.reserve(lot, M("4"))
        journal.release(lot, M("1"))
        state = await journal.post()
        assert await _balances(tx, lot) == [(M("10"), M("3"))]
        count = (await tx.conn.execute(select(transfers.c.id).where(
            transfers.c.operation_id == journal.operation_id))).all()
    assert count == []
    assert state is not None and (state.posted, state.held, state.available) == (M("10"), M("3"), M("7"))


async def test_an_empty_journal_posts_nothing(client, app):
    wallet_id, lot = await _lot(client)
    async with _tx(app) as tx:
        journal = await _journal(tx, wallet_id)
        journal.transfer(lot, "sys_revenue_USD", 0, "debit")
        assert await journal.post() is None
        assert await _balances(tx, lot) == [(M("10"), 0)]
        posted = (await tx.conn.execute(select(wallets.c.posted).where(wallets.c.id == wallet_id))).scalar()
    assert posted == M("10")


async def test_post_refuses_to_take_an_account_below_its_limit(client, app):
    wallet_id, lot = await _lot(client)
    with pytest.raises(InsufficientFunds):
        async with _tx(app) as tx:
            journal = await _journal(tx, wallet_id)
            journal.transfer(lot, "sys_revenue_USD", M("10.000001"), "debit")
            await journal.post()
    async with _tx(app) as tx:
        assert await _balances(tx, lot) == [(M("10"), 0)]


async def test_post_refuses_to_reserve_more_than_an_account_has(client, app):
    wallet_id, lot = await _lot(client)
    with pytest.raises(InsufficientFunds):
        async with _tx(app) as tx:
            journal = await _journal(tx, wallet_id)
            journal.reserve(lot, M("10.000001"))
            await journal.post()


async def test_a_negative_transfer_is_a_bug_refused_before_anything_is_posted(client, app):
    wallet_id, lot = await _lot(client)
    with pytest.raises(ValueError, match="never negative"):
        async with _tx(app) as tx:
            journal = await _journal(tx, wallet_id)
            journal.transfer(lot, "sys_revenue_USD", -1, "debit")
    async with _tx(app) as tx:
        assert await _balances(tx, lot) == [(M("10"), 0)]
