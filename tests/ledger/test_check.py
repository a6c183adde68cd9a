"""ledger/check.py and `creditflow check`: recompute cached balances from the ledger, name any discrepancy."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text

from creditflow.db.tables import transfers
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger.check import find_discrepancies
from creditflow.ledger.repository import insert_operation
from tests.factories import debit, grant, hold, make_customer

CLI = Path(sys.executable).parent / "creditflow"


async def _problems(app) -> list[str]:
    async with app.state.engine.begin() as conn:
        return await find_discrepancies(Tx(conn=conn, now=app.state.clock.now(), actor="test"))


async def _execute(app, sql: str, **params: object) -> None:
    async with app.state.engine.begin() as conn:
        await conn.execute(text(sql), params)


async def _run_cli(database_url: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        str(CLI), "check",
        env={**os.environ, "CREDITFLOW_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    return process.returncode or 0, output.decode()


async def _mixed_workload(client, clock) -> dict[str, str]:
    """Grants, debits, refunds, holds (captured, streamed, voided, expired), overdraft, voids, expiry, 2 units."""
    alice = (await make_customer(client, credit_limit="5"))["id"]
    bob = (await make_customer(client))["id"]
    lot = (await grant(client, alice, "20"))["id"]
    await grant(client, alice, "3", category="promotional", priority=1)
    await grant(client, alice, "4", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    spent = (await debit(client, alice, "6")).json()["id"]
    assert (await client.post(f"/v1/debits/{spent}/refund", json={"amount": "2"})).status_code == 201
    captured = (await hold(client, alice, "5")).json()["id"]
    assert (await client.post(f"/v1/holds/{captured}/capture", json={"amount": "7"})).status_code == 200
    streamed = (await hold(client, alice, "4", expires_in=7200)).json()["id"]
    assert (await client.post(f"/v1/holds/{streamed}/capture", json={"amount": "1", "final": False})).status_code == 200
    voided = (await hold(client, alice, "1")).json()["id"]
    assert (await client.post(f"/v1/holds/{voided}/void")).status_code == 200
    await hold(client, alice, "1", expires_in=60)
    assert (await debit(client, alice, "12")).status_code == 201  # into the overdraft
    await grant(client, alice, "10")  # repays the overdraft first
    assert (await client.post(f"/v1/credit_grants/{lot}/void")).status_code == 200
    assert (await client.post(f"/v1/customers/{bob}/wallets", json={"currency": "CREDITS"})).status_code == 201
    await grant(client, bob, "100", currency="CREDITS")
    assert (await debit(client, bob, "40", currency="CREDITS")).status_code == 201
    clock.advance(hours=1, seconds=1)
    assert (await client.get(f"/v1/customers/{alice}/wallets")).status_code == 200  # sweeps expiry
    return {"alice": alice, "bob": bob, "lot": lot}


async def test_a_consistent_ledger_has_no_discrepancies_after_a_mixed_workload(client, app, clock):
    await _mixed_workload(client, clock)
    assert await _problems(app) == []


async def test_a_corrupted_account_balance_is_reported_naming_the_account(client, app):
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10"))["id"]
    await _execute(app, "UPDATE accounts SET posted = posted + 1 WHERE id = :id", id=lot)
    problems = await _problems(app)
    assert any(lot in p and "posted" in p for p in problems), problems


async def test_a_corrupted_account_held_is_reported_naming_the_account(client, app):
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10"))["id"]
    await hold(client, customer, "3")
    await _execute(app, "UPDATE accounts SET held = held - 1 WHERE id = :id", id=lot)
    problems = await _problems(app)
    assert any(lot in p and "held" in p for p in problems), problems


async def test_a_corrupted_wallet_held_is_reported_naming_the_wallet(client, app):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10")
    wallet_id = (await client.get(f"/v1/customers/{customer}/wallets")).json()["data"][0]["id"]
    await _execute(app, "UPDATE wallets SET held = held + 1 WHERE id = :id", id=wallet_id)
    problems = await _problems(app)
    assert problems == [problems[0]] and wallet_id in problems[0], problems


async def test_an_ended_hold_that_still_reserves_is_reported(client, app):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10")
    created = (await hold(client, customer, "3")).json()["id"]
    await _execute(app, "UPDATE holds SET status = 'voided' WHERE id = :id", id=created)
    problems = await _problems(app)
    assert any(created in p and "still reserves" in p for p in problems), problems


async def test_a_unit_whose_accounts_do_not_sum_to_zero_is_reported(client, app):
    customer = (await make_customer(client))["id"]
    assert (await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"})).status_code == 201
    await grant(client, customer, "1")
    await grant(client, customer, "1", currency="CREDITS")
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=app.state.clock.now(), actor="test")
        operation_id = new_id("op")
        await insert_operation(tx, id=operation_id, kind="adjustment", unit="USD", amount=1, customer_id=None,
                               wallet_id=None)
        await conn.execute(transfers.insert().values(
            id=new_id("trf"), operation_id=operation_id, debit_account_id="sys_adjustments_USD",
            credit_account_id="sys_adjustments_CREDITS", amount=1, unit="USD", kind="adjustment", created_at=tx.now,
        ))
    problems = await _problems(app)
    assert any(p.startswith("unit USD") for p in problems), problems
    assert any(p.startswith("unit CREDITS") for p in problems), problems


async def test_check_cli_exits_zero_on_a_consistent_ledger(client, clock, database_url):
    await _mixed_workload(client, clock)
    code, output = await _run_cli(database_url)
    assert code == 0, output
    assert "consistent" in output


async def test_check_cli_exits_non_zero_naming_a_corrupted_account(client, app, database_url):
    customer = (await make_customer(client))["id"]
    lot = (await grant(client, customer, "10"))["id"]
    await _execute(app, "UPDATE accounts SET posted = posted + 1 WHERE id = :id", id=lot)
    code, output = await _run_cli(database_url)
    assert code != 0, output
    assert f"account {lot}" in output
