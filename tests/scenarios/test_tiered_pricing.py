"""Scenario: a month of token usage under a graduated price gives exactly the bill computed by hand.

Every day of March at 09:00 (the injected clock) the customer sends that day's event of 200.25 tokens,
and, late, the previous evening's event (stamped 21:00 the day before, 12 hours ago: inside the 24-hour
late window) of 15 x day + 0.5 tokens. The last one, stamped 31 March 21:00, arrives on 1 April and still
counts in March. The charges add up to the bill computed by hand below, the wallet went down by exactly
that, and April starts again in the first tier. A volume price reaching a cheaper tier credits back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from creditflow.clock import ManualClock
from tests.factories import balance, customer_id, grant, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, make_price, send
from tests.scenarios._helpers import every_page, moves

RANGES = [
    {"from": "0", "to": "1000", "per_unit": "0.0005", "flat": "0"},
    {"from": "1000", "to": "10000", "per_unit": "0.002", "flat": "1.00"},
    {"from": "10000", "to": None, "per_unit": "0.001", "flat": "0"},
]
DAILY = "200.25"

# March's tokens, by hand:
#   the 09:00 events: 31 x 200.25                                  =  6,207.75
#   the 21:00 events: 15 x (1 + 2 + ... + 31) + 31 x 0.5 = 7,440 + 15.5  =  7,455.50
#   in all                                                         = 13,663.25
# March's bill, by hand:
#   0-1,000 at 0.0005:                  1,000 x 0.0005   =  0.50
#   1,000-10,000 at 0.002 + 1.00 flat:  9,000 x 0.002    = 18.00, + 1.00 = 19.00
#   above 10,000 at 0.001:              3,663.25 x 0.001 =  3.66325
#   in all                                                 23.16325
MARCH_TOKENS = "13663.25"
MARCH_BILL = "23.16325"
MARCH_EVENTS = 62
# 100.00 granted - 23.16325 = 76.83675; then April's first event, 200.25 x 0.0005 = 0.100125: 76.736625.
AFTER_MARCH = "76.83675"
AFTER_APRIL_1 = "76.736625"


async def _day(client: httpx.AsyncClient, customer: str, clock: ManualClock, day: int) -> list[str]:
    """What the customer sends at 09:00 on `day` of March (32: 1 April): the costs charged."""
    costs = []
    if day > 1:
        yesterday = day - 1
        evening = (clock.now() - timedelta(hours=12)).isoformat()
        tokens = f"{15 * yesterday}.5"
        late = await send(client, customer, "tokens", f"mar-{yesterday}-pm", timestamp=evening,
                          properties={"tokens": tokens})
        costs.append(ok(late, 201)["cost"])
    if day <= 31:
        live = await send(client, customer, "tokens", f"mar-{day}-am", properties={"tokens": DAILY})
        costs.append(ok(live, 201)["cost"])
    return costs


async def test_a_month_of_graduated_usage_costs_exactly_the_hand_computed_bill(client, clock, app):
    clock.set(datetime(2026, 3, 1, 9, tzinfo=UTC))
    customer = await customer_id(client)
    await grant(client, customer, "100.00")
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", "graduated", {"ranges": RANGES}, period="month")

    costs: list[str] = []
    for day in range(1, 33):
        costs += await _day(client, customer, clock, day)
        clock.advance(days=1)
    assert len(costs) == MARCH_EVENTS

    # 5 March's event takes March from 953 to 1,153.25 tokens: 47 x 0.0005 + 153.25 x 0.002 + 1.00 flat.
    assert costs[8] == "1.33"
    # 26 March's event takes it from 9,893.75 to 10,094: 106.25 x 0.002 + 94 x 0.001 = 0.2125 + 0.094.
    assert costs[50] == "0.3065"
    assert sum(map(Decimal, costs)) == Decimal(MARCH_BILL)
    assert balance(await wallet(client, customer)) == (AFTER_MARCH, "0.00", AFTER_MARCH)

    march = {"from": "2026-03-01T00:00:00Z", "to": "2026-04-01T00:00:00Z", "group_by": "metric"}
    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params=march))["data"]
    assert [(b["units"], b["events"], b["cost"]) for b in usage] == [(MARCH_TOKENS, MARCH_EVENTS, MARCH_BILL)]

    # 2 April, 09:00: a new period, so the first tier again.
    assert clock.now() == datetime(2026, 4, 2, 9, tzinfo=UTC)
    april = ok(await send(client, customer, "tokens", "apr-2-am", properties={"tokens": DAILY}), 201)
    assert (april["cost"], april["wallet"]) == ("0.100125", {"available": AFTER_APRIL_1})

    # The wallet's history: the grant and one debit per event, adding up to the bill and April's event.
    history = await every_page(client, "/v1/transactions", customer=customer)
    assert [op["kind"] for op in history] == ["debit"] * (MARCH_EVENTS + 1) + ["grant"]
    spent = sum(Decimal(op["amount"]) for op in history[:-1])
    assert spent == Decimal(MARCH_BILL) + Decimal("0.100125")
    assert sorted(op["amount"] for op in history[:-1]) == sorted([*costs, "0.100125"])
    assert await ledger_problems(app) == []


async def test_a_volume_price_credits_back_when_a_cheaper_tier_is_reached(client, clock, app):
    clock.set(datetime(2026, 3, 1, 1, tzinfo=UTC))
    customer = await customer_id(client)
    lot = await grant(client, customer, "100.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "10", "per_unit": "1.00"}, {"from": "10", "to": None, "per_unit": "0.50"}]
    await make_price(client, "calls", "volume", {"ranges": ranges})

    costs = []
    for n in range(12):
        costs.append(ok(await send(client, customer, "calls", f"c{n}"), 201)["cost"])
        clock.advance(hours=1)

    # By hand: ten calls at 1.00 = 10.00; the eleventh puts all 11 in the 0.50 tier: 11 x 0.50 = 5.50, so
    # 10.00 - 5.50 = 4.50 comes back; the twelfth costs 0.50. In all 12 x 0.50 = 6.00: 94.00 left.
    assert costs == ["1.00"] * 10 + ["-4.50", "0.50"]
    assert balance(await wallet(client, customer)) == ("94.00", "0.00", "94.00")

    history = await every_page(client, "/v1/transactions", customer=customer)
    assert [(op["kind"], op["amount"]) for op in history] == [
        ("debit", "0.50"), ("usage_credit", "4.50"), *[("debit", "1.00")] * 10, ("grant", "100.00")
    ]
    credit_back = history[1]
    assert (credit_back["metadata"]["event"], credit_back["description"]) == (
        (await every_page(client, "/v1/events", customer=customer))[1]["id"],
        "usage credit: a cheaper volume tier was reached",
    )
    overdraft_account = moves(credit_back)[0][1]
    assert moves(credit_back) == [("sys_revenue_USD", overdraft_account, "4.50", "usage_credit")]
    # The twelfth call drew the credited 0.50 from the wallet's own account only after the lot: lots first.
    assert moves(history[0]) == [(lot["id"], "sys_revenue_USD", "0.50", "debit")]
    assert await ledger_problems(app) == []
