"""CREDITFLOW_LOW_BALANCE_THRESHOLDS: every new wallet in a configured unit starts with that low-balance alert."""

from __future__ import annotations

import pytest

from creditflow.config import Settings
from tests.factories import customer_id, debit, expect_error, grant, ok


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"low_balance_thresholds": {"INR": 50_000_000, "IDR": 10_000_000_000}})


async def test_a_new_wallet_in_a_configured_unit_starts_with_its_threshold(app, client, smtp) -> None:
    customer = await customer_id(client, currency="INR", email="ops@example.com")
    alert = ok(await client.get(f"/v1/customers/{customer}/wallets/INR/low_balance"))
    assert (alert["threshold"], alert["low"]) == ("50.00", False)
    await grant(client, customer, "60")
    assert (await debit(client, customer, "20")).status_code == 201
    await app.state.jobs.run_once()
    assert [m["Subject"] for m in smtp.messages] == ["Your balance is low: 40.00 INR left"]

    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "IDR"}), 201)
    assert ok(await client.get(f"/v1/customers/{customer}/wallets/IDR/low_balance"))["threshold"] == "10000.00"


async def test_a_wallet_in_another_unit_starts_without_one(client) -> None:
    customer = await customer_id(client, currency="USD")
    expect_error(await client.get(f"/v1/customers/{customer}/wallets/USD/low_balance"), 404, "not_found")
