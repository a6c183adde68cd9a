"""The migrations: they build exactly db/tables.py, and make transfers append-only at the database level."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.migrate import alembic_config, upgrade
from creditflow.db.tables import customers, events, metadata, metrics, prices, transfers
from tests.factories import debit, grant, make_customer


def _include(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name == "alembic_version")


async def test_migrated_schema_matches_the_table_definitions(engine):
    def diff(connection):
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": _include}
        )
        return compare_metadata(context, metadata)

    async with engine.connect() as conn:
        differences = await conn.run_sync(diff)
    assert differences == []


async def test_upgrade_on_a_migrated_database_changes_nothing(engine):
    await upgrade(engine)
    async with engine.connect() as conn:
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    assert version == [ScriptDirectory.from_config(alembic_config()).get_current_head()]


async def test_the_newest_migrations_go_down_and_up_again(engine):
    def cycle(connection):
        config = alembic_config(connection)
        command.downgrade(config, "0008")
        command.upgrade(config, "head")

    async with engine.begin() as conn:
        await conn.run_sync(cycle)
    await test_migrated_schema_matches_the_table_definitions(engine)


async def _one_transfer(client, app) -> str:
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10")
    assert (await debit(client, customer, "1")).status_code == 201
    async with app.state.engine.connect() as conn:
        return (await conn.execute(select(transfers.c.id).limit(1))).scalar_one()


async def test_updating_a_transfer_fails_at_the_database_level(client, app):
    transfer_id = await _one_transfer(client, app)
    query = select(transfers.c.amount).where(transfers.c.id == transfer_id)
    async with app.state.engine.connect() as conn:
        before = (await conn.execute(query)).scalar_one()
    with pytest.raises(DBAPIError, match="append-only"):
        async with app.state.engine.begin() as conn:
            await conn.execute(text("UPDATE transfers SET amount = amount + 1 WHERE id = :id"), {"id": transfer_id})
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(query)).scalar_one() == before


async def test_deleting_a_transfer_fails_at_the_database_level(client, app):
    transfer_id = await _one_transfer(client, app)
    with pytest.raises(DBAPIError, match="append-only"):
        async with app.state.engine.begin() as conn:
            await conn.execute(text("DELETE FROM transfers WHERE id = :id"), {"id": transfer_id})
    async with app.state.engine.connect() as conn:
        assert (await conn.execute(select(transfers.c.id).where(transfers.c.id == transfer_id))).scalar() == transfer_id


async def test_deleting_every_transfer_fails_at_the_database_level(client, app):
    await _one_transfer(client, app)
    with pytest.raises(DBAPIError, match="append-only"):
        async with app.state.engine.begin() as conn:
            await conn.execute(text("DELETE FROM transfers"))


async def test_plan_prices_are_added_to_a_sqlite_database_whose_prices_are_in_use(tmp_path):
    """0010 adds prices.plan_id in place: rebuilding prices (batch mode) would fail once events reference it."""
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"), pooled=False)
    try:
        await upgrade(engine, "0009")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        async with engine.begin() as conn:
            await conn.execute(customers.insert().values(
                id="cus_1", external_id="c1", currency="USD", timezone="UTC", metadata={}, created_at=now,
                updated_at=now))
            await conn.execute(metrics.insert().values(
                id="met_1", code="calls", name="Calls", aggregation="count", filters={}, status="active",
                created_at=now))
            await conn.execute(prices.insert().values(
                id="prc_1", metric_id="met_1", currency="USD", model="standard", properties={"amount": "1"},
                free_units_per_period=0, period="month", filters={}, status="active", created_at=now))
            await conn.execute(events.insert().values(
                id="evt_1", customer_id="cus_1", transaction_id="t1", metric_id="met_1", timestamp=now,
                properties={}, quantity=1, price_id="prc_1", cost=1, refunded=0, created_at=now))

        await upgrade(engine)

        async with engine.connect() as conn:
            assert (await conn.execute(select(prices.c.id, prices.c.plan_id))).all() == [("prc_1", None)]
            assert (await conn.execute(select(events.c.price_id))).scalars().all() == ["prc_1"]
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(prices.update().values(customer_id="cus_1", plan_id="pln_nope"))
    finally:
        await engine.dispose()
