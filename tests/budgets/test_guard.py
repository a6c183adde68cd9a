"""Budgets enforced at spend time: debits, holds, captures and events count in the same transaction;
blocking budgets refuse with 402 budget_exceeded and nothing written; alerts once per period."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.factories import (
    balance,
    customer_id,
    debit,
    expect_error,
    grant,
    hold,
    make_api_key,
    make_budget,
    ok,
    wallet,
)
from tests.metering._helpers import ledger_problems, make_metric, make_price, send


async def _funded(client, amount: str = "1000") -> str:
    customer = await customer_id(client)
    await grant(client, customer, amount)
    return customer


async def _period(client, budget: dict) -> tuple[str, str, str]:
    period = ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]
    return period["spent"], period["reserved"], period["remaining"]


async def _alerts(client, budget: dict) -> list[tuple[str, int, str]]:
    data = ok(await client.get("/v1/alerts", params={"budget": budget["id"], "limit": 100}))["data"]
    return sorted((a["kind"], a["threshold"], a["spent"]) for a in data)


async def test_a_debit_beyond_a_blocking_budget_is_refused_and_writes_nothing(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="50")
    assert (await debit(client, customer, "30")).status_code == 201
    before = balance(await wallet(client, customer))

    error = expect_error(await debit(client, customer, "20.01"), 402, "budget_exceeded")

    assert error["details"] == {"budget": budget["id"], "remaining": "20.00", "currency": "USD"}
    assert balance(await wallet(client, customer)) == before
    assert await _period(client, budget) == ("30.00", "0.00", "20.00")
    assert (await debit(client, customer, "20")).status_code == 201
    assert await _period(client, budget) == ("50.00", "0.00", "0.00")


async def test_thresholds_alert_once_per_period_and_again_in_the_next(client, clock):
    clock.set(datetime(2026, 5, 1, 9, tzinfo=UTC))
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="100", period="day", thresholds=[50, 80, 100])

    for amount in ("40", "15", "10", "10", "25"):
        assert (await debit(client, customer, amount)).status_code == 201

    assert await _alerts(client, budget) == [
        ("budget.threshold_reached", 50, "55.00"),
        ("budget.threshold_reached", 80, "100.00"),
        ("budget.threshold_reached", 100, "100.00"),
    ]
    clock.set(datetime(2026, 5, 2, 0, 0, 1, tzinfo=UTC))
    assert (await debit(client, customer, "60")).status_code == 201
    assert len(await _alerts(client, budget)) == 4


async def test_an_alert_budget_never_blocks_and_records_when_it_is_exceeded(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="10", action="alert", thresholds=[100])

    for _ in range(3):
        assert (await debit(client, customer, "6")).status_code == 201

    assert await _period(client, budget) == ("18.00", "0.00", "0.00")
    assert await _alerts(client, budget) == [
        ("budget.exceeded", 100, "12.00"), ("budget.threshold_reached", 100, "12.00"),
    ]


async def test_periods_roll_over_at_the_calendar_boundary_in_the_budgets_timezone(client, clock):
    # 16:59 UTC is 23:59 in Jakarta; one minute later a new Jakarta day begins.
    clock.set(datetime(2026, 6, 10, 16, 59, tzinfo=UTC))
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="5", period="day", timezone="Asia/Jakarta")
    assert (await debit(client, customer, "5")).status_code == 201
    expect_error(await debit(client, customer, "1"), 402, "budget_exceeded")

    clock.advance(minutes=1)

    assert (await debit(client, customer, "5")).status_code == 201
    assert await _period(client, budget) == ("5.00", "0.00", "0.00")


async def test_a_hold_reserves_budget_and_a_capture_within_it_never_fails(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="50")
    held = ok(await hold(client, customer, "40"), 201)
    assert await _period(client, budget) == ("0.00", "40.00", "10.00")
    expect_error(await debit(client, customer, "10.01"), 402, "budget_exceeded")
    assert (await debit(client, customer, "10")).status_code == 201

    captured = ok(await client.post(f"/v1/holds/{held['id']}/capture", json={"amount": "30"}))

    assert captured["amount"] == "30.00"
    assert await _period(client, budget) == ("40.00", "0.00", "10.00")


async def test_a_hold_beyond_a_blocking_budget_is_refused_and_writes_nothing(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="50")

    expect_error(await hold(client, customer, "50.01"), 402, "budget_exceeded")

    assert ok(await client.get("/v1/holds", params={"customer": customer}))["data"] == []
    assert balance(await wallet(client, customer)) == ("1000.00", "0.00", "1000.00")
    assert await _period(client, budget) == ("0.00", "0.00", "50.00")


async def test_only_the_excess_of_an_over_capture_is_checked(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="20")
    assert (await debit(client, customer, "5")).status_code == 201
    held = ok(await hold(client, customer, "10"), 201)

    expect_error(await client.post(f"/v1/holds/{held['id']}/capture", json={"amount": "15.01"}), 402, "budget_exceeded")
    assert await _period(client, budget) == ("5.00", "10.00", "5.00")
    assert ok(await client.get(f"/v1/holds/{held['id']}"))["status"] == "active"

    ok(await client.post(f"/v1/holds/{held['id']}/capture", json={"amount": "15"}))
    assert await _period(client, budget) == ("20.00", "0.00", "0.00")


async def test_partial_captures_consume_the_reservation_and_the_final_one_releases_the_rest(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="100")
    held = ok(await hold(client, customer, "30"), 201)

    ok(await client.post(f"/v1/holds/{held['id']}/capture", json={"amount": "10", "final": False}))
    assert await _period(client, budget) == ("10.00", "20.00", "70.00")
    ok(await client.post(f"/v1/holds/{held['id']}/capture", json={"amount": "5"}))
    assert await _period(client, budget) == ("15.00", "0.00", "85.00")


async def test_a_hold_placed_before_its_budget_was_archived_still_gives_the_reservation_back(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="100")
    captured = ok(await hold(client, customer, "30"), 201)
    voided = ok(await hold(client, customer, "20"), 201)
    # Archiving the only budget clears the wallet's budgeted flag: only the holds' rows remember it.
    ok(await client.post(f"/v1/budgets/{budget['id']}/archive"))

    ok(await client.post(f"/v1/holds/{captured['id']}/capture", json={"amount": "10", "final": False}))
    assert await _period(client, budget) == ("0.00", "40.00", "60.00")
    ok(await client.post(f"/v1/holds/{captured['id']}/capture", json={"amount": "5"}))
    ok(await client.post(f"/v1/holds/{voided['id']}/void"))

    assert await _period(client, budget) == ("0.00", "0.00", "100.00")


async def test_void_and_expiry_give_the_reservation_back(client, clock):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="100")
    voided = ok(await hold(client, customer, "30"), 201)
    expiring = ok(await hold(client, customer, "20", expires_in=60), 201)
    assert await _period(client, budget) == ("0.00", "50.00", "50.00")

    ok(await client.post(f"/v1/holds/{voided['id']}/void"))
    assert await _period(client, budget) == ("0.00", "20.00", "80.00")
    clock.advance(seconds=61)
    assert (await debit(client, customer, "1")).status_code == 201  # touching the wallet applies expiry

    assert ok(await client.get(f"/v1/holds/{expiring['id']}"))["status"] == "expired"
    assert await _period(client, budget) == ("1.00", "0.00", "99.00")


async def test_a_key_budget_counts_only_that_keys_spend_and_a_customer_budget_counts_all(client):
    customer = await _funded(client)
    key, other_key = await make_api_key(client, customer), await make_api_key(client, customer)
    key_budget = await make_budget(client, api_key=key["id"], amount="10")
    customer_budget = await make_budget(client, customer=customer, amount="25")

    assert (await debit(client, customer, "8", api_key=key["id"])).status_code == 201
    assert (await debit(client, customer, "9", api_key=other_key["id"])).status_code == 201
    assert (await debit(client, customer, "4")).status_code == 201
    expect_error(await debit(client, customer, "2.01", api_key=key["id"]), 402, "budget_exceeded")
    expect_error(await debit(client, customer, "4.01"), 402, "budget_exceeded")

    assert await _period(client, key_budget) == ("8.00", "0.00", "2.00")
    assert await _period(client, customer_budget) == ("21.00", "0.00", "4.00")


async def test_spend_names_an_api_key_the_customer_owns(client):
    customer, stranger = await _funded(client), await _funded(client)
    key = await make_api_key(client, stranger)

    for response in (
        await debit(client, customer, "1", api_key=key["id"]),
        await hold(client, customer, "1", api_key=key["id"]),
        await debit(client, customer, "1", api_key="ak_missing"),
    ):
        assert expect_error(response, 404, "not_found")["param"] == "api_key"
    assert balance(await wallet(client, customer)) == ("1000.00", "0.00", "1000.00")


async def test_debits_and_holds_carry_their_api_key(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer)

    made = ok(await debit(client, customer, "1", api_key=key["id"]), 201)
    held = ok(await hold(client, customer, "1", api_key=key["id"]), 201)

    assert made["api_key"] == key["id"]
    assert ok(await client.get(f"/v1/debits/{made['id']}"))["api_key"] == key["id"]
    assert held["api_key"] == key["id"]


async def test_events_count_and_are_refused_past_a_blocking_budget(client):
    customer = await _funded(client)
    metric = await make_metric(client, "calls")
    await make_price(client, metric["code"], properties={"amount": "2.00"})
    budget = await make_budget(client, customer=customer, amount="5")

    assert (await send(client, customer, "calls", "t1")).status_code == 201
    assert (await send(client, customer, "calls", "t2")).status_code == 201
    expect_error(await send(client, customer, "calls", "t3"), 402, "budget_exceeded")
    batch = ok(
        await client.post(
            "/v1/events/batch",
            json={"events": [{"customer": customer, "metric": "calls", "transaction_id": t} for t in ("t4", "t5")]},
        )
    )

    assert [r["status"] for r in batch["results"]] == ["rejected", "rejected"]
    assert {r["error"]["code"] for r in batch["results"]} == {"budget_exceeded"}
    assert await _period(client, budget) == ("4.00", "0.00", "1.00")
    assert ok(await client.get("/v1/events", params={"customer": customer}))["data"].__len__() == 2


async def test_archiving_stops_enforcement(client):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="1")
    expect_error(await debit(client, customer, "2"), 402, "budget_exceeded")

    ok(await client.post(f"/v1/budgets/{budget['id']}/archive"))

    assert (await debit(client, customer, "2")).status_code == 201


async def test_concurrent_debits_never_spend_past_a_blocking_budget(client, app):
    customer = await _funded(client)
    budget = await make_budget(client, customer=customer, amount="100")

    responses = await asyncio.gather(*(debit(client, customer, "10") for _ in range(25)))

    assert sorted(r.status_code for r in responses) == [201] * 10 + [402] * 15
    assert await _period(client, budget) == ("100.00", "0.00", "0.00")
    assert balance(await wallet(client, customer)) == ("900.00", "0.00", "900.00")
    assert await ledger_problems(app) == []
