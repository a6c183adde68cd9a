"""src/creditflow/ledger/debt.py called directly, in one transaction per step, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from creditflow.customers.service import create_customer
from creditflow.db.tables import accounts, transfers
from creditflow.db.tx import Tx
from creditflow.errors import InsufficientFunds
from creditflow.ledger import grants
from creditflow.ledger.check import find_discrepancies
from creditflow.ledger.debits import debit
from creditflow.ledger.debt import outstanding_debt, record_debt
from creditflow.ledger.holds import create_hold
from creditflow.ledger.models import debt_account_id, system_account_id
from creditflow.money import parse
from creditflow.wallets.service import wallet_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _in_tx(engine, step):
    async with engine.begin() as conn:
        return await step(Tx(conn=conn, now=T0, actor="test:debt"))


async def _customer(engine) -> str:
    async def step(tx: Tx) -> str:
        return (await create_customer(tx, external_id="ledger-debt", currency="USD")).id

    return await _in_tx(engine, step)


async def _grant(engine, customer: str, amount: str, **fields) -> grants.Grant:
    fields.setdefault("category", "paid")
    return await _in_tx(
        engine, lambda tx: grants.grant_credits(tx, customer=customer, amount=parse(amount), unit=None, **fields)
    )


async def _debt(engine, wallet_id: str, amount: str):
    return await _in_tx(
        engine, lambda tx: record_debt(tx, wallet_id, parse(amount), reference_id=None, description="test debt")
    )


async def _wallet(engine, customer: str):
    return await _in_tx(engine, lambda tx: wallet_for(tx, customer, "USD"))


async def _consistent(engine) -> list[str]:
    return await _in_tx(engine, find_discrepancies)


async def test_a_debt_is_collected_from_unheld_credits_at_once(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "20")
    recorded = await _debt(engine, lot.wallet_id, "8")
    assert (recorded.amount, recorded.collected, recorded.outstanding) == (parse("8"), parse("8"), 0)
    view = await _wallet(engine, customer)
    assert (view.state.available, view.debt) == (parse("12"), 0)
    assert await _consistent(engine) == []


async def test_what_the_wallet_cannot_cover_is_owed_and_the_next_grant_pays_it_first(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "3")
    recorded = await _debt(engine, lot.wallet_id, "10")
    assert (recorded.collected, recorded.outstanding) == (parse("3"), parse("7"))
    view = await _wallet(engine, customer)
    assert (view.state.posted, view.state.available, view.debt) == (0, 0, parse("7"))
    # The wallet itself never goes below zero: the debt is owed outside it.
    more = await _grant(engine, customer, "5")
    assert more.remaining == 0
    assert (await _wallet(engine, customer)).debt == parse("2")
    await _grant(engine, customer, "4")
    view = await _wallet(engine, customer)
    assert (view.state.available, view.debt) == (parse("2"), 0)
    assert await _consistent(engine) == []


async def test_debts_add_up(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "1")
    await _debt(engine, lot.wallet_id, "4")
    second = await _debt(engine, lot.wallet_id, "2")
    assert (second.collected, second.outstanding) == (0, parse("5"))
    assert await _in_tx(engine, lambda tx: outstanding_debt(tx, lot.wallet_id)) == parse("5")
    assert await _consistent(engine) == []


async def test_held_credits_are_not_taken_for_a_debt(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "10")
    wallet_id = lot.wallet_id

    await _in_tx(engine, lambda tx: create_hold(tx, customer=customer, amount=parse("6"), unit=None, expires_in=600))
    recorded = await _debt(engine, wallet_id, "10")
    assert (recorded.collected, recorded.outstanding) == (parse("4"), parse("6"))
    assert await _consistent(engine) == []


async def test_a_wallet_in_debt_cannot_spend_and_the_database_refuses_more_debt_than_recorded(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "1")
    await _debt(engine, lot.wallet_id, "5")
    with pytest.raises(InsufficientFunds):
        await _in_tx(engine, lambda tx: debit(tx, customer=customer, amount=parse("1"), unit=None))

    async def overdraw_debt(tx: Tx) -> None:
        await tx.conn.execute(
            accounts.update().where(accounts.c.id == debt_account_id(lot.wallet_id)).values(posted=-parse("5") - 1)
        )

    with pytest.raises(IntegrityError):
        await _in_tx(engine, overdraw_debt)


async def test_usage_nothing_paid_for_is_owed_to_revenue(engine):
    customer = await _customer(engine)
    lot = await _grant(engine, customer, "1")

    async def step(tx: Tx):
        return await record_debt(tx, lot.wallet_id, parse("3"), reference_id=None, description="usage",
                                 creditor="revenue")

    recorded = await _in_tx(engine, step)
    assert (recorded.collected, recorded.outstanding) == (parse("1"), parse("2"))
    async with engine.begin() as conn:
        owed_to = (await conn.execute(
            select(transfers.c.credit_account_id).where(transfers.c.operation_id == recorded.operation_id,
                                                       transfers.c.kind == "debt")
        )).scalar_one()
    assert owed_to == system_account_id("revenue", "USD")
    assert await _consistent(engine) == []
