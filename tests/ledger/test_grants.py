"""src/creditflow/ledger/grants.py called directly, in one transaction per step, on the real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creditflow.customers.service import create_customer
from creditflow.db.tx import Tx
from creditflow.errors import GrantNotActive, InvalidRequest, NotFound, WalletNotFound
from creditflow.ledger import grants
from creditflow.money import parse

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _in_tx(engine, now: datetime, step):
    async with engine.begin() as conn:
        return await step(Tx(conn=conn, now=now, actor="test:grants"))


async def _customer(engine) -> str:
    async def step(tx: Tx) -> str:
        return (await create_customer(tx, external_id="ledger-grants", currency="USD")).id

    return await _in_tx(engine, T0, step)


async def _grant(engine, customer: str, amount: str, now: datetime = T0, **fields) -> grants.Grant:
    fields.setdefault("category", "paid")

    async def step(tx: Tx):
        return await grants.grant_credits(tx, customer=customer, amount=parse(amount), unit=None, **fields)

    return await _in_tx(engine, now, step)


async def test_grant_credits_records_source_and_cost(engine):
    customer = await _customer(engine)
    made = await _grant(engine, customer, "10", source="topup", cost_amount=parse("9.5"), cost_unit="USD")
    assert made.source == "topup"
    assert (made.cost_amount, made.cost_unit) == (9_500_000, "USD")
    assert (made.amount, made.remaining, made.held, made.status) == (10_000_000, 10_000_000, 0, "active")
    assert made.created_at == T0


async def test_grant_credits_refuses_expiry_not_after_now(engine):
    customer = await _customer(engine)
    with pytest.raises(InvalidRequest):
        await _grant(engine, customer, "1", expires_at=T0)


async def test_grant_credits_into_missing_wallet_raises_wallet_not_found(engine):
    customer = await _customer(engine)

    async def step(tx: Tx):
        return await grants.grant_credits(tx, customer=customer, amount=1, unit="EUR", category="paid")

    with pytest.raises(WalletNotFound):
        await _in_tx(engine, T0, step)


async def test_get_grant_reports_a_lapsed_lot_as_expired_before_any_sweep(engine):
    customer = await _customer(engine)
    made = await _grant(engine, customer, "10", expires_at=T0 + timedelta(hours=1))

    async def read(tx: Tx):
        return await grants.get_grant(tx, made.id)

    before = await _in_tx(engine, T0 + timedelta(minutes=59), read)
    after = await _in_tx(engine, T0 + timedelta(hours=1), read)
    assert (before.status, before.remaining) == ("active", 10_000_000)
    assert (after.status, after.remaining, after.ended_at) == ("expired", 0, T0 + timedelta(hours=1))


async def test_get_grant_unknown_raises_not_found(engine):
    async def read(tx: Tx):
        return await grants.get_grant(tx, "grt_missing")

    with pytest.raises(NotFound):
        await _in_tx(engine, T0, read)


async def test_lots_of_wallet_orders_by_priority_expiry_age_then_id(engine):
    customer = await _customer(engine)
    no_expiry = await _grant(engine, customer, "1")
    no_expiry_same_time = await _grant(engine, customer, "1")
    older = await _grant(engine, customer, "1", now=T0 - timedelta(days=1))
    late = await _grant(engine, customer, "1", expires_at=T0 + timedelta(days=9))
    soon = await _grant(engine, customer, "1", expires_at=T0 + timedelta(days=1))
    urgent = await _grant(engine, customer, "1", priority=1)

    async def read(tx: Tx):
        return await grants.lots_of_wallet(tx, made_wallet)

    made_wallet = urgent.wallet_id
    lots = await _in_tx(engine, T0, read)
    assert [lot.id for lot in lots] == [
        urgent.id, soon.id, late.id, older.id, no_expiry.id, no_expiry_same_time.id,
    ]


async def test_void_grant_voids_unheld_remainder_and_refuses_a_second_void(engine):
    customer = await _customer(engine)
    made = await _grant(engine, customer, "10")

    async def void(tx: Tx):
        return await grants.void_grant(tx, made.id)

    voided = await _in_tx(engine, T0 + timedelta(minutes=1), void)
    assert (voided.status, voided.remaining, voided.ended_at) == ("voided", 0, T0 + timedelta(minutes=1))
    with pytest.raises(GrantNotActive):
        await _in_tx(engine, T0 + timedelta(minutes=2), void)
