"""Scenario: a month of token usage under a graduated price gives exactly the bill computed by hand.

One event a day for the 31 days of March (each sent on its day, inside the late window, with the
injected clock), decimal quantities. The wallet goes down by exactly the bill, and April starts over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from tests.factories import balance, grant, make_customer, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, make_price, send

RANGES = [
    {"from": "0", "to": "1000", "per_unit": "0", "flat": "0"},
    {"from": "1000", "to": "10000", "per_unit": "0.002", "flat": "1.00"},
    {"from": "10000", "to": None, "per_unit": "0.001", "flat": "0"},
]
# 31 events of 450.5 tokens = 13,965.5 tokens in March.
# By hand: the first 1,000 are free; 1,000-10,000: 9,000 x 0.002 = 18.00, plus the 1.00 flat fee on
# entering the tier; above 10,000: 3,965.5 x 0.001 = 3.9655. Total 22.9655.
MARCH_BILL = "22.9655"


async def test_a_month_of_graduated_usage_costs_exactly_the_hand_computed_bill(client, clock, app):
    clock.set(datetime(2026, 3, 1, 12, tzinfo=UTC))
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "100.00")
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", "graduated", {"ranges": RANGES}, period="month")

    costs = []
    for day in range(31):
        answer = ok(await send(client, customer, "tokens", f"march-{day}", properties={"tokens": "450.5"}), 201)
        costs.append(answer["cost"])
        clock.advance(days=1)

    # Day 3 crosses 1,000 tokens (351.5 billable + the flat fee); day 23 crosses 10,000.
    assert costs[:2] == ["0.00", "0.00"]
    assert costs[2] == "1.703"
    assert sum(map(Decimal, costs)) == Decimal(MARCH_BILL)
    assert balance(await wallet(client, customer)) == ("77.0345", "0.00", "77.0345")

    # April 1st: a new period, the free tier again.
    assert clock.now() == datetime(2026, 4, 1, 12, tzinfo=UTC)
    assert ok(await send(client, customer, "tokens", "april-0", properties={"tokens": "450.5"}), 201)["cost"] == "0.00"
    assert await ledger_problems(app) == []


async def test_a_volume_price_credits_back_when_a_cheaper_tier_is_reached(client, clock):
    clock.set(datetime(2026, 3, 1, tzinfo=UTC) + timedelta(hours=1))
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "100.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "10", "per_unit": "1.00"}, {"from": "10", "to": None, "per_unit": "0.50"}]
    await make_price(client, "calls", "volume", {"ranges": ranges})

    costs = [ok(await send(client, customer, "calls", f"c{n}"), 201)["cost"] for n in range(11)]

    # Ten calls at 1.00; the eleventh puts all 11 in the 0.50 tier: 5.50 in all, so -4.50 comes back.
    assert costs == ["1.00"] * 10 + ["-4.50"]
    assert (await wallet(client, customer))["available"] == "94.50"
