"""GET /v1/reports/summary against a fixture computed by hand (README, Reports): top-ups, a failed one, a refund,
usage and an expiry across a month boundary, in a seller time zone 7 hours ahead of UTC. The same answer comes
live (no day closed yet) and from the rollups the daily close job stores."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from creditflow.config import Settings
from creditflow.reports.schemas import Summary
from tests.factories import customer_id, debit, expect_error, grant, hold, ok
from tests.topups.support import deliver, open_topup, sandbox_notification

ZONE = "Asia/Jakarta"  # UTC+7, no daylight saving: 2026-01-31 20:00 UTC is already 1 February there


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, jobs_enabled=False, seller_timezone=ZONE)


async def _paid_topup(app, client, customer: str, outcome: str = "paid") -> dict[str, Any]:
    opened = await open_topup(client, customer, "sandbox", amount="100000", currency="IDR")
    assert (await deliver(client, "sandbox", sandbox_notification(app, opened, outcome))).status_code == 200
    return opened


async def _fixture(app, client, clock) -> str:
    clock.set(datetime(2026, 1, 30, 12, tzinfo=UTC))
    await app.state.jobs.run_once()  # closes 29 January: the job has run before
    clock.set(datetime(2026, 1, 31, 3, tzinfo=UTC))  # 31 January, 10:00 in Jakarta
    ayu, budi = await customer_id(client, currency="IDR"), await customer_id(client, currency="IDR")
    paid = await _paid_topup(app, client, ayu)  # 111,000 with 11% tax: 100,000 credits
    await _paid_topup(app, client, budi, "failed")
    assert (await debit(client, ayu, "30000")).status_code == 201
    await grant(client, ayu, "5000", category="promotional", expires_at="2026-01-31T18:00:00Z")
    clock.set(datetime(2026, 1, 31, 20, tzinfo=UTC))  # 1 February, 03:00 in Jakarta: the grant has expired
    assert (await debit(client, ayu, "10000")).status_code == 201
    clock.set(datetime(2026, 2, 1, 5, tzinfo=UTC))
    ok(await client.post(f"/v1/topups/{paid['id']}/refund", json={"amount": "55500"}), 201)
    clock.set(datetime(2026, 2, 28, 10, tzinfo=UTC))
    assert (await hold(client, ayu, "2000", expires_in=7 * 24 * 3600)).status_code == 201
    return ayu


def _expected(ayu: str) -> list[dict[str, Any]]:
    january = {
        "object": "summary_bucket", "start": "2026-01-01", "end": "2026-01-31", "currency": "IDR",
        "revenue": "100000.00", "tax": "11000.00", "topups": {"started": 2, "paid": 1, "failed": 1},
        "success_rate": "0.5000", "conversion": "0.5000", "credits_granted_paid": "100000.00",
        "credits_granted_promotional": "5000.00", "credits_consumed": "30000.00", "credits_expired": "0.00",
        "credits_refunded": "0.00", "balance_outstanding": "75000.00", "holds_outstanding": "0.00",
        "active_customers": 1, "new_customers": 2, "mrr": "0.00",
        "top_customers": [{"customer": ayu, "spend": "30000.00"}],
    }
    february = {
        **january, "start": "2026-02-01", "end": "2026-02-28", "revenue": "-50000.00", "tax": "-5500.00",
        "topups": {"started": 0, "paid": 0, "failed": 0}, "success_rate": None, "conversion": None,
        "credits_granted_paid": "0.00", "credits_granted_promotional": "0.00", "credits_consumed": "10000.00",
        "credits_expired": "5000.00", "credits_refunded": "50000.00", "balance_outstanding": "10000.00",
        "holds_outstanding": "2000.00", "new_customers": 0, "top_customers": [{"customer": ayu, "spend": "10000.00"}],
    }
    return [january, february]


async def _summary(client, **params: str) -> list[dict[str, Any]]:
    answer = ok(await client.get("/v1/reports/summary", params={"currency": "IDR", **params}))
    assert (answer["object"], answer["timezone"]) == ("report_summary", ZONE)
    Summary.model_validate(answer)  # the shape OpenAPI documents
    return answer["data"]


async def test_the_summary_matches_the_hand_computed_fixture_live_and_closed(app, client, clock) -> None:
    ayu = await _fixture(app, client, clock)
    months = {"from": "2026-01-01", "to": "2026-02-28", "group_by": "month"}
    assert await _summary(client, **months) == _expected(ayu)  # live: only 29 January is closed
    days = await _summary(client, **{"from": "2026-01-31", "to": "2026-02-01"})
    assert [(d["start"], d["credits_consumed"], d["credits_expired"]) for d in days] == [
        ("2026-01-31", "30000.00", "0.00"), ("2026-02-01", "10000.00", "5000.00")
    ]
    clock.set(datetime(2026, 3, 2, 12, tzinfo=UTC))
    await app.state.jobs.run_once()  # closes 30 January to 1 March
    assert await _summary(client, **months) == _expected(ayu)
    assert await _summary(client, **{"from": "2026-01-31", "to": "2026-02-01"}) == days
    january, february = _expected(ayu)
    cut = await _summary(client, **{**months, "from": "2026-01-15"})  # January cut: added up from its days
    assert cut == [{**january, "start": "2026-01-15"}, february]
    assert await _summary(client, **{**months, "from": "2026-02-01"}) == [february]  # balances carried in
    weeks = await _summary(client, **{"from": "2026-01-26", "to": "2026-02-08", "group_by": "week"})
    assert [(w["start"], w["end"], w["credits_consumed"]) for w in weeks] == [
        ("2026-01-26", "2026-02-01", "40000.00"), ("2026-02-02", "2026-02-08", "0.00")
    ]


async def test_a_reversed_range_or_an_unknown_grouping_is_refused(client) -> None:
    response = await client.get("/v1/reports/summary", params={"from": "2026-03-10", "to": "2026-03-09"})
    assert expect_error(response, 422, "invalid_request")["param"] == "from"
    expect_error(await client.get("/v1/reports/summary", params={"group_by": "hour"}), 422, "validation_error")
