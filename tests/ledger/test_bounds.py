"""D1 (issue 11): amounts and balances are bounded so that no balance or sum can overflow 64 bits: past the
bounds a request gets 422 amount_too_large and writes nothing, the database refuses what a service lets
through, and `creditflow check` sums any number of transfers."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from creditflow.db.tables import accounts, wallets
from creditflow.money import MAX_AMOUNT, MAX_BALANCE
from tests.factories import expect_error, grant, make_customer, ok, wallet
from tests.metering._helpers import ledger_problems

LARGEST_AMOUNT = "1000000000000"  # 10^12 units: money.MAX_AMOUNT


async def test_d1_an_amount_past_the_largest_is_422_amount_too_large_and_writes_nothing(client, app):
    customer = (await make_customer(client, external_id="ovf", currency="USD"))["id"]
    body = {"customer": "ovf", "amount": "9223372036854.775807", "category": "paid"}
    for _ in range(2):
        error = expect_error(await client.post("/v1/credit_grants", json=body), 422, "amount_too_large")
        assert error["param"] == "amount"
    assert (await wallet(client, customer))["posted"] == "0.00"
    assert await ledger_problems(app) == []


async def test_d1_the_largest_amount_itself_is_accepted(client):
    customer = (await make_customer(client, currency="USD"))["id"]
    assert (await grant(client, customer, LARGEST_AMOUNT))["amount"] == "1000000000000.00"
    expect_error(
        await client.post("/v1/credit_grants", json={"customer": customer, "amount": "1000000000000.000001",
                                                     "category": "paid"}),
        422, "amount_too_large",
    )


async def test_d1_a_grant_that_would_pass_the_largest_balance_is_422_and_the_wallet_stays_readable(client, app):
    customer = (await make_customer(client, currency="USD"))["id"]
    for _ in range(4):
        await grant(client, customer, LARGEST_AMOUNT)
    error = expect_error(
        await client.post("/v1/credit_grants", json={"customer": customer, "amount": "0.01", "category": "paid"}),
        422, "amount_too_large",
    )
    assert "largest" in error["message"]
    assert (await wallet(client, customer))["posted"] == "4000000000000.00"
    assert await ledger_problems(app) == []


async def test_d1_check_sums_a_system_account_past_64_bits(client, app):
    # Three wallets at the largest balance: the promotions account was debited 1.2 x 10^19 micro-units in all.
    for _ in range(3):
        customer = (await make_customer(client, currency="USD"))["id"]
        for _ in range(4):
            await grant(client, customer, LARGEST_AMOUNT, category="promotional")
    assert await ledger_problems(app) == []


async def test_d1_the_database_refuses_a_balance_past_the_bound(client, app):
    customer = (await make_customer(client, currency="USD"))["id"]
    await grant(client, customer, "1")
    for table in (accounts, wallets):
        with pytest.raises(IntegrityError, match="within_bounds"):
            async with app.state.engine.begin() as conn:
                await conn.execute(
                    table.update().where(table.c.customer_id == customer).values(posted=MAX_BALANCE + 1)
                )


async def test_d1_an_addition_past_64_bits_is_refused_never_stored(client, app):
    customer = (await make_customer(client, currency="USD"))["id"]
    await grant(client, customer, LARGEST_AMOUNT)
    # 10^18 + 9 x 10^18 overflows 64 bits: SQLite would store the sum as a REAL (its trigger refuses that, by
    # type and bound), PostgreSQL refuses it as bigint out of range.
    with pytest.raises(DBAPIError, match=r"within_bounds|out of range"):
        async with app.state.engine.begin() as conn:
            await conn.execute(text("UPDATE wallets SET posted = posted + 9000000000000000000 WHERE customer_id = :c"),
                               {"c": customer})
    async with app.state.engine.connect() as conn:
        stored = (await conn.execute(select(wallets.c.posted).where(wallets.c.customer_id == customer))).scalar_one()
    assert stored == MAX_AMOUNT


async def test_d1_a_check_violation_is_a_500_logged_at_error_with_its_constraint(client, app, caplog):
    customer = (await make_customer(client, currency="USD"))["id"]

    async def violate() -> None:
        async with app.state.engine.begin() as conn:
            await conn.execute(wallets.update().where(wallets.c.customer_id == customer).values(held=-1))

    app.add_api_route("/_test/violate", violate, methods=["POST"])
    with caplog.at_level(logging.ERROR, logger="creditflow.http"):
        response = await client.post("/_test/violate")
    expect_error(response, 500, "internal_error")
    assert any("held_not_negative" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


async def test_d1_a_unique_violation_is_still_a_409_to_retry(client, app):
    customer = await make_customer(client, currency="USD")

    async def duplicate() -> None:
        async with app.state.engine.begin() as conn:
            row = (await conn.execute(select(wallets).where(wallets.c.customer_id == customer["id"]))).mappings().one()
            await conn.execute(wallets.insert().values(dict(row)))

    app.add_api_route("/_test/duplicate", duplicate, methods=["POST"])
    expect_error(await client.post("/_test/duplicate"), 409, "conflict")
    assert ok(await client.get(f"/v1/customers/{customer['id']}"))["id"] == customer["id"]
