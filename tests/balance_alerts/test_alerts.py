"""Low-balance alerts: PUT/GET/DELETE on a wallet, and the job runner's check: one wallet.low_balance event and
one email per crossing (not per debit), re-armed when the balance climbs back; wallet.depleted likewise."""

from __future__ import annotations

from tests.factories import customer_id, debit, expect_error, grant, ok
from tests.topups.support import deliver, open_topup, sandbox_notification


async def _alert(client, customer: str, currency: str = "USD", **body) -> dict:
    return ok(await client.put(f"/v1/customers/{customer}/wallets/{currency}/low_balance", json=body))


async def test_an_alert_fires_once_per_crossing_and_re_arms(app, client, smtp) -> None:
    customer = await customer_id(client, currency="USD", email="ops@example.com")
    await grant(client, customer, "100")
    set_ = await _alert(client, customer, threshold="20")
    assert (set_["threshold"], set_["effective_threshold"], set_["low"], set_["available"]) == (
        "20.00", "20.00", False, "100.00"
    )
    await debit(client, customer, "85")
    await app.state.jobs.run_once()
    await debit(client, customer, "5")
    await app.state.jobs.run_once()
    assert [m["Subject"] for m in smtp.messages] == ["Your balance is low: 15.00 USD left"]
    assert ok(await client.get(f"/v1/customers/{customer}/wallets/USD/low_balance"))["low"] is True
    await grant(client, customer, "50")
    await app.state.jobs.run_once()
    assert ok(await client.get(f"/v1/customers/{customer}/wallets/USD/low_balance"))["low"] is False
    await debit(client, customer, "55")
    await app.state.jobs.run_once()
    assert [m["Subject"] for m in smtp.messages] == [
        "Your balance is low: 15.00 USD left", "Your balance is low: 5.00 USD left"
    ]


async def test_depletion_is_its_own_alert(app, client, smtp) -> None:
    customer = await customer_id(client, currency="USD", email="ops@example.com")
    await grant(client, customer, "10")
    await _alert(client, customer, threshold="5")
    await debit(client, customer, "10")
    await app.state.jobs.run_once()
    assert sorted(m["Subject"] for m in smtp.messages) == [
        "Your balance has run out", "Your balance is low: 0.00 USD left"
    ]
    await app.state.jobs.run_once()
    assert len(smtp.messages) == 2


async def test_a_percentage_of_the_last_top_up(app, client, smtp) -> None:
    customer = await customer_id(client, currency="IDR", email="ops@example.com")
    alert = await _alert(client, customer, "IDR", threshold_percent=10)
    assert (alert["threshold_percent"], alert["effective_threshold"]) == (10, None)
    opened = await open_topup(client, customer, "sandbox", amount="100000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    assert (await _alert(client, customer, "IDR", threshold_percent=10))["effective_threshold"] == "10000.00"
    await debit(client, customer, "95000")
    await app.state.jobs.run_once()
    assert "Your balance is low: 5000.00 IDR left" in [m["Subject"] for m in smtp.messages]


async def test_bad_alerts_are_refused_and_one_can_be_removed(client) -> None:
    customer = await customer_id(client, currency="USD")
    path = f"/v1/customers/{customer}/wallets/USD/low_balance"
    for body in ({}, {"threshold": "5", "threshold_percent": 10}, {"threshold": "0"}, {"threshold_percent": 101}):
        expect_error(await client.put(path, json=body), 422, "validation_error")
    expect_error(await client.get(path), 404, "not_found")
    expect_error(await client.put(f"/v1/customers/{customer}/wallets/EUR/low_balance", json={"threshold": "1"}),
                 422, "wallet_not_found")
    await _alert(client, customer, threshold="5")
    assert (await client.delete(path)).status_code == 204
    expect_error(await client.get(path), 404, "not_found")
