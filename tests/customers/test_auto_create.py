"""CREDITFLOW_AUTO_CREATE_CUSTOMERS: usage paths (events, batches, authorize) create an unknown customer in the
default currency, kept even when the call is refused; grants and top-ups never do, and it is off by default."""

from __future__ import annotations

import pytest

from creditflow.config import Settings
from tests.factories import expect_error, grant, ok
from tests.metering._helpers import make_metric, make_price, send


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"auto_create_customers": True, "default_currency": "INR", "low_balance_thresholds": {"INR": 5_000_000}}
    )


async def _priced(client, code: str = "calls", amount: str = "1.00") -> None:
    await make_metric(client, code)
    await make_price(client, code, currency="INR", properties={"amount": amount})


async def test_a_refused_event_still_creates_its_customer_once(client) -> None:
    await _priced(client)
    refused = await send(client, "new-user-1", "calls", "t1")
    expect_error(refused, 402, "insufficient_funds")
    customer = ok(await client.get("/v1/customers/new-user-1"))
    assert (customer["currency"], customer["external_id"]) == ("INR", "new-user-1")
    assert ok(await client.get("/v1/customers/new-user-1/wallets/INR/low_balance"))["threshold"] == "5.00"

    await grant(client, "new-user-1", "3")
    assert ok(await send(client, "new-user-1", "calls", "t2"), 201)["cost"] == "1.00"
    assert len(ok(await client.get("/v1/customers", params={"limit": 100}))["data"]) == 1


async def test_a_batch_creates_each_unknown_customer(client) -> None:
    await _priced(client, "free", "0")
    events = [{"customer": name, "metric": "free", "transaction_id": f"t-{i}"}
              for i, name in enumerate(["b-1", "b-2", "b-1"])]
    answer = ok(await client.post("/v1/events/batch", json={"events": events}))
    assert answer["accepted"] == 3
    assert {c["external_id"] for c in ok(await client.get("/v1/customers"))["data"]} == {"b-1", "b-2"}


async def test_authorize_creates_the_customer_and_refuses_for_lack_of_funds(client) -> None:
    answer = ok(await client.post("/v1/authorize", json={"customer": "auth-user", "amount": "1.00"}))
    assert (answer["allowed"], answer["reason"]) == (False, "insufficient_funds")
    assert ok(await client.get("/v1/customers/auth-user"))["currency"] == "INR"


async def test_grants_top_ups_and_our_own_ids_never_create_a_customer(client) -> None:
    grant_body = {"customer": "typo", "amount": "5", "category": "paid"}
    expect_error(await client.post("/v1/credit_grants", json=grant_body), 404, "not_found")
    topup_body = {"customer": "typo", "amount": "500", "currency": "INR", "gateway": "sandbox"}
    expect_error(await client.post("/v1/topups", json=topup_body), 404, "not_found")
    await _priced(client, "free", "0")
    expect_error(await send(client, "cus_0000000000000000", "free", "t1"), 404, "not_found")
    assert ok(await client.get("/v1/customers"))["data"] == []


async def test_off_by_default(app, client) -> None:
    app.state.settings = app.state.settings.model_copy(update={"auto_create_customers": False})
    await _priced(client, "free", "0")
    expect_error(await send(client, "stranger", "free", "t1"), 404, "not_found")
    assert ok(await client.post("/v1/authorize", json={"customer": "stranger", "amount": "1"}), 404)
