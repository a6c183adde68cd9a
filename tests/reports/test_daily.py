"""GET /v1/reports/daily: what the job runner stores per day (seller's time zone) and currency once the day is
over: top-ups and their money, revenue net of tax, refunds, spend and new customers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.factories import customer_id, debit, expect_error, grant, ok
from tests.topups.support import deliver, open_topup, sandbox_notification


async def test_a_day_is_summarized_once_it_has_ended(app, client, clock) -> None:
    clock.set(datetime(2026, 3, 9, 10, tzinfo=UTC))
    ayu = await customer_id(client, currency="IDR")
    await customer_id(client, currency="IDR")
    await customer_id(client, currency="USD")
    opened = await open_topup(client, ayu, "sandbox", amount="100000", currency="IDR")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    assert (await debit(client, ayu, "30000")).status_code == 201
    await grant(client, ayu, "5000", category="promotional")
    await app.state.jobs.run_once()
    assert ok(await client.get("/v1/reports/daily"))["data"] == []  # the day is not over
    clock.set(datetime(2026, 3, 10, 0, 1, tzinfo=UTC))
    await app.state.jobs.run_once()
    await app.state.jobs.run_once()
    reports = ok(await client.get("/v1/reports/daily"))["data"]
    assert reports == [
        {"object": "daily_report", "day": "2026-03-09", "currency": "IDR", "topups": 1,
         "topups_amount": "111000.00", "revenue": "100000.00", "refunds": "0.00", "spend": "30000.00",
         "new_customers": 2},
        {"object": "daily_report", "day": "2026-03-09", "currency": "USD", "topups": 0, "topups_amount": "0.00",
         "revenue": "0.00", "refunds": "0.00", "spend": "0.00", "new_customers": 1},
    ]
    only_usd = ok(await client.get("/v1/reports/daily", params={"currency": "USD", "from": "2026-03-09"}))["data"]
    assert [r["currency"] for r in only_usd] == ["USD"]
    assert ok(await client.get("/v1/reports/daily", params={"to": "2026-03-08"}))["data"] == []


async def test_days_missed_while_nothing_ran_are_caught_up(app, client, clock) -> None:
    clock.set(datetime(2026, 3, 9, 10, tzinfo=UTC))
    await app.state.jobs.run_once()
    customer = await customer_id(client, currency="USD")
    await grant(client, customer, "10")
    for day in range(3):
        clock.set(datetime(2026, 3, 9 + day, 12, tzinfo=UTC))
        assert (await debit(client, customer, "1")).status_code == 201
    clock.set(datetime(2026, 3, 12, 9, tzinfo=UTC) + timedelta(days=0))
    await app.state.jobs.run_once()
    reports = ok(await client.get("/v1/reports/daily", params={"currency": "USD"}))["data"]
    assert [(r["day"], r["spend"]) for r in reports] == [
        ("2026-03-11", "1.00"), ("2026-03-10", "1.00"), ("2026-03-09", "1.00")
    ]


async def test_a_reversed_range_is_refused(client) -> None:
    response = await client.get("/v1/reports/daily", params={"from": "2026-03-10", "to": "2026-03-09"})
    assert expect_error(response, 422, "invalid_request")["param"] == "from"
    expect_error(await client.get("/v1/reports/daily", params={"from": "yesterday"}), 422, "validation_error")
