"""src/creditflow/ledger/debits.py remove_credits, called directly on the real database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from creditflow.customers.service import create_customer
from creditflow.db.tables import transfers
from creditflow.db.tx import Tx
from creditflow.errors import InsufficientFunds
from creditflow.ledger import grants
from creditflow.ledger.check import find_discrepancies
from creditflow.ledger.debits import remove_credits
from creditflow.ledger.models import system_account_id
from creditflow.money import parse
from creditflow.wallets.service import set_credit_limit, wallet_for

T0 = datetime(2026, 3, 1, tzinfo=UTC)


async def _in_tx(engine, step):
    async with engine.begin() as conn:
        return await step(Tx(conn=conn, now=T0, actor="test:debits"))


async def test_removed_credits_go_to_adjustments_in_draw_order_and_never_past_the_lots(engine):
    async def setup(tx: Tx) -> str:
        customer = (await create_customer(tx, external_id="remove", currency="USD")).id
        await grants.grant_credits(tx, customer=customer, amount=parse("3"), unit=None, category="paid", priority=1)
        await grants.grant_credits(tx, customer=customer, amount=parse("5"), unit=None, category="promotional")
        await set_credit_limit(tx, customer, "USD", parse("100"))
        return customer

    customer = await _in_tx(engine, setup)
    wallet = await _in_tx(engine, lambda tx: wallet_for(tx, customer, "USD"))
    operation_id = await _in_tx(engine, lambda tx: remove_credits(tx, wallet.state.id, parse("4"), description="void"))
    async with engine.begin() as conn:
        moved = (await conn.execute(
            select(transfers.c.amount, transfers.c.credit_account_id).where(transfers.c.operation_id == operation_id)
            .order_by(transfers.c.id)
        )).all()
    assert [(amount, to) for amount, to in moved] == [
        (parse("3"), system_account_id("adjustments", "USD")), (parse("1"), system_account_id("adjustments", "USD"))
    ]
    # The credit limit lends for spending, never for removing: only the 4 left in lots can go.
    with pytest.raises(InsufficientFunds):
        await _in_tx(engine, lambda tx: remove_credits(tx, wallet.state.id, parse("5"), description="void"))
    view = await _in_tx(engine, lambda tx: wallet_for(tx, customer, "USD"))
    assert view.state.posted == parse("4")
    assert await _in_tx(engine, find_discrepancies) == []
