"""0009 adds payment methods to a SQLite database whose top-ups are in use: topups gains its columns in place
(a rebuild would fail once credits and refunds reference its rows), and the new foreign key holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.migrate import upgrade
from creditflow.db.tables import customers, topups, webhook_inbox


async def test_payment_methods_are_added_to_a_sqlite_database_whose_topups_are_in_use(tmp_path) -> None:
    engine = create_engine(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"), pooled=False)
    try:
        await upgrade(engine, "0008")
        now = datetime(2026, 11, 1, tzinfo=UTC)
        async with engine.begin() as conn:
            await conn.execute(customers.insert().values(
                id="cus_1", external_id="c1", currency="USD", timezone="UTC", metadata={}, created_at=now,
                updated_at=now))
            await conn.execute(topups.insert().values(
                id="top_1", customer_id="cus_1", gateway="stripe", status="pending", currency="USD", amount=1,
                subtotal=1, tax=0, total=1, credit_unit="USD", credits=1, bonus_credits=0, description="x",
                expires_at=now, amount_refunded=0, disputed_debt=0, created_at=now, updated_at=now))
            await conn.execute(webhook_inbox.insert().values(
                gateway="stripe", event_key="evt_1", event_type="x", topup_id="top_1", outcome="ignored",
                received_at=now))

        await upgrade(engine, "0009")

        columns = (topups.c.id, topups.c.save_payment_method, topups.c.payment_method_id, topups.c.charge_key)
        async with engine.connect() as conn:
            assert (await conn.execute(select(*columns))).all() == [("top_1", False, None, None)]
            assert (await conn.execute(select(webhook_inbox.c.topup_id))).scalars().all() == ["top_1"]
        with pytest.raises(DBAPIError):
            async with engine.begin() as conn:
                await conn.execute(topups.update().values(payment_method_id="pm_nope"))
    finally:
        await engine.dispose()
