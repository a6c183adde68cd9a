"""The migrations: they build exactly db/tables.py, and make transfers append-only at the database level."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from creditflow.db.migrate import alembic_config, upgrade
from creditflow.db.tables import metadata, transfers
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
