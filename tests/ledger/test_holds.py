"""ledger/holds.py: reservations on specific accounts (allocation rows) and how captures consume them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from sqlalchemy import event, select

from creditflow import money
from creditflow.db.tables import hold_allocations, transfers
from creditflow.db.tables import holds as holds_table
from creditflow.db.tx import Tx
from creditflow.ledger import holds
from creditflow.ledger.models import Draw
from tests.factories import grant, make_customer

M = money.parse


@contextlib.asynccontextmanager
async def _tx(app, actor: str = "test") -> AsyncIterator[Tx]:
    async with app.state.engine.begin() as conn:
        yield Tx(conn=conn, now=app.state.clock.now(), actor=actor)


async def _two_lots(client) -> tuple[str, str, str]:
    customer = (await make_customer(client))["id"]
    second = (await grant(client, customer, "5", priority=50))["id"]
    first = (await grant(client, customer, "3", priority=10))["id"]
    return customer, first, second


async def test_create_hold_writes_one_allocation_per_account_in_draw_order(client, app):
    customer, first, second = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    assert hold.allocations == [Draw(first, M("3")), Draw(second, M("1"))]
    async with _tx(app) as tx:
        rows = (
            await tx.conn.execute(
                select(hold_allocations.c.seq, hold_allocations.c.account_id, hold_allocations.c.amount)
                .where(hold_allocations.c.hold_id == hold.id)
                .order_by(hold_allocations.c.seq)
            )
        ).all()
    assert [tuple(r) for r in rows] == [(0, first, M("3")), (1, second, M("1"))]


async def test_create_hold_reserves_on_the_overdraft_after_the_lots(client, app):
    customer = await make_customer(client, credit_limit="5")
    lot = (await grant(client, customer["id"], "2"))["id"]
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer["id"], amount=M("4"), unit=None, expires_in=600)
    assert hold.allocations[0].account_id == lot
    assert hold.allocations[1].account_id.startswith("ovd_")
    assert [d.amount for d in hold.allocations] == [M("2"), M("2")]


async def test_create_hold_records_its_actor(client, app):
    customer, _, _ = await _two_lots(client)
    async with _tx(app, actor="key:test") as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("1"), unit=None, expires_in=600)
        actor = (await tx.conn.execute(select(holds_table.c.actor).where(holds_table.c.id == hold.id))).scalar()
    assert actor == "key:test"


async def test_partial_captures_consume_allocations_in_draw_order(client, app):
    customer, first, second = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    async with _tx(app) as tx:
        result = await holds.capture_hold(tx, hold.id, M("2"), final=False)
    assert result.hold.allocations == [Draw(first, M("1")), Draw(second, M("1"))]
    assert result.hold.reserved == M("2")
    async with _tx(app) as tx:
        result = await holds.capture_hold(tx, hold.id, M("1.5"), final=False)
    assert result.hold.allocations == [Draw(first, 0), Draw(second, M("0.5"))]
    assert result.hold.captured == M("3.5")


async def test_capture_moves_the_consumed_reservations_to_revenue(client, app):
    customer, first, second = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    async with _tx(app) as tx:
        result = await holds.capture_hold(tx, hold.id, M("4"))
        rows = (await tx.conn.execute(select(transfers).where(transfers.c.operation_id == result.id))).all()
    moved = sorted((r.debit_account_id, r.credit_account_id, r.amount, r.kind) for r in rows)
    revenue = "sys_revenue_USD"
    assert moved == sorted([(first, revenue, M("3"), "capture"), (second, revenue, M("1"), "capture")])
    assert (result.wallet.posted, result.wallet.held) == (M("4"), 0)


async def test_final_capture_releases_every_remaining_allocation(client, app):
    customer, first, second = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    async with _tx(app) as tx:
        result = await holds.capture_hold(tx, hold.id, M("1"))
    assert result.hold.status == "captured"
    assert result.hold.allocations == [Draw(first, 0), Draw(second, 0)]
    assert result.breakage == 0
    assert (result.wallet.posted, result.wallet.held) == (M("7"), 0)


async def test_the_placed_hold_is_the_hold_as_stored(client, app):
    customer, _, _ = await _two_lots(client)
    async with _tx(app) as tx:
        placed = await holds.create_hold(
            tx, customer=customer, amount=M("4"), unit=None, expires_in=600, description="d", metadata={"k": "v"}
        )
    async with _tx(app) as tx:
        assert await holds.get_hold(tx, placed.id) == placed


async def test_a_captured_hold_is_the_hold_as_stored(client, app):
    customer, _, _ = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    for amount, final in ((M("3.5"), False), (M("0.25"), False), (M("0.1"), True)):
        async with _tx(app) as tx:
            captured = (await holds.capture_hold(tx, hold.id, amount, final=final)).hold
        async with _tx(app) as tx:
            assert await holds.get_hold(tx, hold.id) == captured


class _Selects:
    """Counts the SELECTs SQLAlchemy sends that read a given table."""

    def __init__(self, app, table: str) -> None:
        self.count = 0
        self._engine = app.state.engine.sync_engine
        self._table = table

    def _seen(self, _conn, _cursor, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and f"FROM {self._table} " in f"{statement} ":
            self.count += 1

    def __enter__(self) -> _Selects:
        event.listen(self._engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_: object) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


async def test_placing_a_hold_answers_without_reading_it_back(client, app):
    customer, _, _ = await _two_lots(client)
    with _Selects(app, "holds") as selects:
        async with _tx(app) as tx:
            await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    assert selects.count == 0


async def test_a_capture_reads_its_hold_once(client, app):
    customer, _, _ = await _two_lots(client)
    async with _tx(app) as tx:
        hold = await holds.create_hold(tx, customer=customer, amount=M("4"), unit=None, expires_in=600)
    with _Selects(app, "holds") as selects:
        async with _tx(app) as tx:
            await holds.capture_hold(tx, hold.id, M("1"))
    assert selects.count == 1
