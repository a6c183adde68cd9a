"""jobs/runner.py: one pass of every periodic job at the clock's time."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from creditflow.db.tables import credit_grants, idempotency_keys
from creditflow.jobs.runner import JobRunner
from tests.factories import grant, make_customer


async def _count_keys(app) -> int:
    async with app.state.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(idempotency_keys))).scalar_one()


async def test_run_once_sweeps_due_wallets_at_the_clock_time(client, app, clock, settings):
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "5", expires_at=(clock.now() + timedelta(hours=1)).isoformat()))["id"]
    runner = JobRunner(app.state.engine, clock, settings)
    assert await runner.run_once() == 0
    clock.advance(hours=1)
    assert await runner.run_once() == 1
    async with app.state.engine.connect() as conn:
        status = (await conn.execute(select(credit_grants.c.status).where(credit_grants.c.id == lot))).scalar_one()
    assert status == "expired"


async def test_run_once_purges_idempotency_keys_past_their_retention(client, app, clock, settings):
    response = await client.post("/v1/customers", json={"external_id": "ext-1"}, headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201
    runner = JobRunner(app.state.engine, clock, settings)
    clock.advance(hours=23, minutes=59)
    await runner.run_once()
    assert await _count_keys(app) == 1
    clock.advance(minutes=1)
    await runner.run_once()
    assert await _count_keys(app) == 0
