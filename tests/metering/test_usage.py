"""metering/usage.py through GET /v1/customers/{customer}/usage: buckets, costs, pricing of deferred metrics."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.factories import expect_error, make_customer, ok, parse_time, wallet
from tests.metering._helpers import funded, make_metric, make_price, send

GRADUATED = [
    {"from": "0", "to": "100", "per_unit": "0.10", "flat": "0"},
    {"from": "100", "to": "500", "per_unit": "0.05", "flat": "2.00"},
    {"from": "500", "to": None, "per_unit": "0.01", "flat": "0"},
]
JANUARY = {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00Z"}


def _at(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


async def _usage(client, customer: str, **params: str) -> dict[str, Any]:
    return ok(await client.get(f"/v1/customers/{customer}/usage", params=params))


def _rows(report: dict[str, Any]) -> list[tuple]:
    """Each row as (start, end, metric, units, events, cost, currency)."""
    return [
        (parse_time(r["start"]), parse_time(r["end"]), r["metric"], r["units"], r["events"], r["cost"], r["currency"])
        for r in report["data"]
    ]


async def _send_at(client, clock, moment: datetime, customer: str, metric: str, tx: str, **properties: Any) -> dict:
    clock.set(moment)
    return ok(await send(client, customer, metric, tx, properties=properties), 201)


async def test_graduated_price_gives_daily_costs_that_add_up_to_the_hand_computed_bill(client, clock):
    customer = await funded(client)
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", "graduated", {"ranges": GRADUATED})
    sends = [(_at(2026, 1, 5, 9), "60"), (_at(2026, 1, 5, 23, 59), "30"), (_at(2026, 1, 6, 12), "50"),
             (_at(2026, 1, 7, 0), "400"), (_at(2026, 1, 7, 18), "100")]
    for n, (moment, tokens) in enumerate(sends):
        await _send_at(client, clock, moment, customer, "tokens", f"t{n}", tokens=tokens)

    report = await _usage(client, customer, group_by="day", **JANUARY)
    # By hand: 90 units cost 9.00; 140 cost 10 + 40 x 0.05 + 2 = 14.00; 640 cost 10 + 20 + 2 + 140 x 0.01 = 33.40.
    assert _rows(report) == [
        (_at(2026, 1, 5), _at(2026, 1, 6), "tokens", "90", 2, "9.00", "USD"),
        (_at(2026, 1, 6), _at(2026, 1, 7), "tokens", "50", 1, "5.00", "USD"),
        (_at(2026, 1, 7), _at(2026, 1, 8), "tokens", "500", 2, "19.40", "USD"),
    ]
    assert sum(Decimal(r["cost"]) for r in report["data"]) == Decimal("33.40")
    assert (await wallet(client, customer))["available"] == "66.60"

    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert _rows(whole) == [(_at(2026, 1, 1), _at(2026, 2, 1), "tokens", "640", 5, "33.40", "USD")]
    assert (whole["object"], whole["customer"], whole["group_by"], whole["timezone"]) == (
        "usage", customer, "metric", "UTC")
    assert (parse_time(whole["from"]), parse_time(whole["to"])) == (_at(2026, 1, 1), _at(2026, 2, 1))


async def test_hour_buckets_follow_a_half_hour_time_zone(client, clock):
    customer = await funded(client, timezone="Asia/Kolkata")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.50"})
    clock.set(_at(2026, 3, 10, 6))
    for n, stamp in enumerate(["2026-03-10T04:29:59.999999Z", "2026-03-10T04:30:00Z", "2026-03-10T05:15:00Z"]):
        ok(await send(client, customer, "calls", f"c{n}", timestamp=stamp), 201)

    report = await _usage(client, customer, group_by="hour", **{"from": "2026-03-10T00:00:00+05:30"})
    # 09:59:59.999999 and 10:00 in Kolkata fall in different hours; 10:00 and 10:45 in the same one.
    assert _rows(report) == [
        (_at(2026, 3, 10, 3, 30), _at(2026, 3, 10, 4, 30), "calls", "1", 1, "0.50", "USD"),
        (_at(2026, 3, 10, 4, 30), _at(2026, 3, 10, 5, 30), "calls", "2", 2, "1.00", "USD"),
    ]
    assert parse_time(report["to"]) == _at(2026, 3, 10, 6)


async def test_buckets_on_the_day_daylight_saving_time_ends(client, clock):
    customer = await funded(client, timezone="America/New_York")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    clock.set(_at(2026, 11, 1, 12))
    # 01:30 EDT (05:30Z) and 01:30 EST (06:30Z): the clock shows 01:xx twice that night.
    for n, stamp in enumerate(["2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z", "2026-11-01T07:30:00Z"]):
        ok(await send(client, customer, "calls", f"c{n}", timestamp=stamp), 201)
    window = {"from": "2026-11-01T00:00:00-04:00", "to": "2026-11-02T00:00:00-05:00"}

    hours = await _usage(client, customer, group_by="hour", **window)
    assert _rows(hours) == [
        (_at(2026, 11, 1, 5), _at(2026, 11, 1, 7), "calls", "2", 2, "2.00", "USD"),
        (_at(2026, 11, 1, 7), _at(2026, 11, 1, 8), "calls", "1", 1, "1.00", "USD"),
    ]
    days = await _usage(client, customer, group_by="day", **window)
    assert _rows(days) == [(_at(2026, 11, 1, 4), _at(2026, 11, 2, 5), "calls", "3", 3, "3.00", "USD")]


async def test_max_metric_is_priced_in_the_report_as_the_period_close_will_charge_it(client, clock):
    customer = await funded(client, "10.00")
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", properties={"amount": "10.00"})
    sends = [(_at(2026, 1, 5, 8), "3"), (_at(2026, 1, 6, 8), "5"), (_at(2026, 1, 6, 9), "2"), (_at(2026, 1, 7, 8), "4")]
    for n, (moment, seats) in enumerate(sends):
        event = await _send_at(client, clock, moment, customer, "seats", f"s{n}", seats=seats)
        assert (event["cost"], event["currency"]) == ("0", None)
    assert (await wallet(client, customer))["available"] == "10.00"

    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert _rows(whole) == [(_at(2026, 1, 1), _at(2026, 2, 1), "seats", "5", 4, "50.00", "USD")]
    # Each day adds what it raises the month's charge by: 3 seats, then 5, then still 5.
    days = await _usage(client, customer, group_by="day", **JANUARY)
    assert [(r[0], r[3], r[4], r[5]) for r in _rows(days)] == [
        (_at(2026, 1, 5), "3", 1, "30.00"),
        (_at(2026, 1, 6), "5", 2, "20.00"),
        (_at(2026, 1, 7), "4", 1, "0.00"),
    ]


async def test_a_report_over_part_of_a_period_shows_what_that_part_added(client, clock):
    customer = await funded(client)
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", "graduated", {"ranges": GRADUATED}, free_units_per_period="1")
    for n, (moment, seats) in enumerate([(_at(2026, 1, 5, 8), "150"), (_at(2026, 1, 20, 8), "601")]):
        await _send_at(client, clock, moment, customer, "seats", f"s{n}", seats=seats)
    # The close prices 600 billable seats: 10 + 20 + 2 + 100 x 0.01 = 33.00; 149 of them: 10 + 2.45 + 2 = 14.45.
    tenth = "2026-01-10T00:00:00Z"
    first = await _usage(client, customer, group_by="metric", **{"from": "2026-01-01T00:00:00Z", "to": tenth})
    rest = await _usage(client, customer, group_by="metric", **{"from": tenth, "to": "2026-02-01T00:00:00Z"})
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert [r["cost"] for r in first["data"] + rest["data"] + whole["data"]] == ["14.45", "18.55", "33.00"]
    assert [r["units"] for r in first["data"] + rest["data"] + whole["data"]] == ["150", "601", "601"]


async def test_max_metric_periods_roll_over_at_month_ends_in_the_customers_time_zone(client, clock):
    customer = await funded(client, timezone="Asia/Jakarta")
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", properties={"amount": "1.00"})
    # 23:00 on 31 January and 01:00 on 1 February in Jakarta (UTC+7).
    await _send_at(client, clock, _at(2026, 1, 31, 16), customer, "seats", "jan", seats="7")
    await _send_at(client, clock, _at(2026, 1, 31, 18), customer, "seats", "feb", seats="4")
    window = {"from": "2026-01-31T00:00:00+07:00", "to": "2026-02-02T00:00:00+07:00"}
    whole = await _usage(client, customer, group_by="metric", **window)
    assert [(r["units"], r["events"], r["cost"]) for r in whole["data"]] == [("7", 2, "11.00")]
    days = await _usage(client, customer, group_by="day", **window)
    assert [(r[0], r[3], r[5]) for r in _rows(days)] == [
        (_at(2026, 1, 30, 17), "7", "7.00"),
        (_at(2026, 1, 31, 17), "4", "4.00"),
    ]


@pytest.mark.parametrize(("period", "costs", "total"), [("day", ["2.00", "2.00"], "4.00"),
                                                        ("month", ["2.00", "1.00"], "3.00")])
async def test_unique_count_metric_counts_each_value_once_per_period(client, clock, period, costs, total):
    customer = await funded(client)
    await make_metric(client, "users", "unique_count", field="user")
    await make_price(client, "users", properties={"amount": "1.00"}, period=period)
    sends = [(_at(2026, 1, 5, 8), "a"), (_at(2026, 1, 5, 9), "b"), (_at(2026, 1, 5, 10), "a"),
             (_at(2026, 1, 6, 8), "a"), (_at(2026, 1, 6, 9), "c")]
    for n, (moment, user) in enumerate(sends):
        await _send_at(client, clock, moment, customer, "users", f"u{n}", user=user)
    days = await _usage(client, customer, group_by="day", **JANUARY)
    assert [(r[3], r[4], r[5]) for r in _rows(days)] == [("2", 3, costs[0]), ("2", 2, costs[1])]
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert [(r["units"], r["events"], r["cost"]) for r in whole["data"]] == [("3", 5, total)]


async def test_unique_count_over_a_week_period_in_hour_buckets(client, clock):
    customer = await funded(client, timezone="Europe/Berlin")
    await make_metric(client, "users", "unique_count", field="user")
    await make_price(client, "users", properties={"amount": "1.00"}, period="week")
    # Sunday 23:30 and Monday 00:30 in Berlin (UTC+1) are in different weeks; the same user counts in both.
    await _send_at(client, clock, _at(2026, 1, 11, 22, 30), customer, "users", "u1", user="a")
    await _send_at(client, clock, _at(2026, 1, 11, 23, 30), customer, "users", "u2", user="a")
    await _send_at(client, clock, _at(2026, 1, 11, 23, 45), customer, "users", "u3", user="a")
    hours = await _usage(client, customer, group_by="hour", **JANUARY)
    assert [(r[0], r[3], r[4], r[5]) for r in _rows(hours)] == [
        (_at(2026, 1, 11, 22), "1", 1, "1.00"),
        (_at(2026, 1, 11, 23), "1", 2, "1.00"),
    ]


async def test_latest_metric_is_priced_on_the_latest_value(client, clock):
    customer = await funded(client)
    await make_metric(client, "storage", "latest", field="gb")
    await make_price(client, "storage", properties={"amount": "0.10"})
    sends = [(_at(2026, 1, 5, 8), "100"), (_at(2026, 1, 5, 9), "120"), (_at(2026, 1, 6, 8), "80")]
    for n, (moment, gb) in enumerate(sends):
        await _send_at(client, clock, moment, customer, "storage", f"g{n}", gb=gb)
    days = await _usage(client, customer, group_by="day", **JANUARY)
    assert [(r[3], r[4], r[5]) for r in _rows(days)] == [("120", 2, "12.00"), ("80", 1, "-4.00")]
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert [(r["units"], r["events"], r["cost"]) for r in whole["data"]] == [("80", 3, "8.00")]


async def test_deferred_metric_takes_the_most_specific_matching_price(client, clock):
    customer = await funded(client)
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", properties={"amount": "1.00"})
    await make_price(client, "seats", properties={"amount": "2.00"}, filters={"tier": ["1"]})
    await make_price(client, "seats", properties={"amount": "3.00"}, filters={"tier": ["1"], "paid": ["true"]})
    sends = [({"seats": "3", "tier": 1}, "a"), ({"seats": "5", "tier": "2"}, "b"), ({"seats": "4"}, "c"),
             ({"seats": "2", "tier": "1", "paid": True}, "d")]
    for properties, tx in sends:
        await _send_at(client, clock, _at(2026, 1, 5, 8), customer, "seats", tx, **properties)
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    # Default price: max(5, 4) x 1.00; tier 1: 3 x 2.00; tier 1 and paid: 2 x 3.00.
    assert [(r["units"], r["events"], r["cost"]) for r in whole["data"]] == [("5", 4, "17.00")]


async def test_deferred_metric_without_a_matching_price_shows_units_at_no_cost(client, clock):
    customer = await funded(client)
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats", properties={"amount": "1.00"}, filters={"tier": ["gold"]})
    await _send_at(client, clock, _at(2026, 1, 5, 8), customer, "seats", "s1", seats="6", tier="silver")
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert [(r["units"], r["events"], r["cost"], r["currency"]) for r in whole["data"]] == [("6", 1, "0", None)]


async def test_cost_is_net_of_refunds_and_of_volume_credits(client, clock):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    await make_metric(client, "sms")
    ranges = [{"from": "0", "to": "2", "per_unit": "1.00"}, {"from": "2", "to": None, "per_unit": "0.50"}]
    await make_price(client, "sms", "volume", {"ranges": ranges})
    clock.set(_at(2026, 1, 5, 8))
    calls = [ok(await send(client, customer, "calls", f"c{n}"), 201) for n in range(3)]
    ok(await client.post(f"/v1/events/{calls[0]['id']}/refund"), 201)
    sms = [ok(await send(client, customer, "sms", f"s{n}"), 201)["cost"] for n in range(3)]
    assert sms == ["1.00", "1.00", "-0.50"]
    whole = await _usage(client, customer, group_by="metric", **JANUARY)
    assert [(r["metric"], r["units"], r["events"], r["cost"]) for r in whole["data"]] == [
        ("calls", "3", 3, "2.00"),
        ("sms", "3", 3, "1.50"),
    ]


async def test_defaults_are_this_calendar_month_in_the_customers_zone_until_now(client, clock):
    customer = await make_customer(client, timezone="Asia/Jakarta", external_id="acme")
    clock.set(_at(2026, 2, 10, 12))
    report = await _usage(client, "acme")
    assert report["customer"] == customer["id"]
    assert (parse_time(report["from"]), parse_time(report["to"])) == (_at(2026, 1, 31, 17), _at(2026, 2, 10, 12))
    assert (report["group_by"], report["metric"], report["data"]) == ("day", None, [])


async def test_metric_parameter_and_other_customers(client, clock):
    alice = await funded(client)
    bob = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    await make_metric(client, "seats", "max", field="seats")
    await make_price(client, "seats")
    clock.set(_at(2026, 1, 5, 8))
    for customer in (alice, bob):
        ok(await send(client, customer, "calls", "c1"), 201)
        ok(await send(client, customer, "seats", "s1", properties={"seats": "2"}), 201)
    ok(await send(client, bob, "calls", "c2"), 201)
    both = await _usage(client, alice, group_by="metric", **JANUARY)
    assert [(r["metric"], r["events"], r["cost"]) for r in both["data"]] == [("calls", 1, "1.00"), ("seats", 1, "2.00")]
    only = await _usage(client, alice, group_by="metric", metric="seats", **JANUARY)
    assert only["metric"] == "seats"
    assert [(r["metric"], r["events"], r["cost"]) for r in only["data"]] == [("seats", 1, "2.00")]


@pytest.mark.parametrize(
    ("params", "status", "code", "param"),
    [
        ({"from": "2026-01-10T00:00:00Z", "to": "2026-01-09T00:00:00Z"}, 422, "invalid_request", "from"),
        ({"group_by": "week"}, 422, "validation_error", "group_by"),
        ({"metric": "nope"}, 404, "not_found", "metric"),
        ({"group_by": "hour", "from": "2025-01-01T00:00:00Z", "to": "2026-01-02T00:00:01Z"}, 422, "invalid_request",
         "from"),
        ({"from": "2026-01-01T00:00:00"}, 422, "validation_error", "from"),
        ({"to": "yesterday"}, 422, "validation_error", "to"),
    ],
)
async def test_bad_parameters_are_4xx_naming_the_parameter(client, params, status, code, param):
    customer = (await make_customer(client))["id"]
    error = expect_error(await client.get(f"/v1/customers/{customer}/usage", params=params), status, code)
    assert error["param"] == param, error


async def test_hour_buckets_accept_a_range_of_366_days(client):
    customer = (await make_customer(client))["id"]
    params = {"group_by": "hour", "from": "2025-01-01T00:00:00Z", "to": "2026-01-02T00:00:00Z"}
    assert (await _usage(client, customer, **params))["data"] == []


async def test_unknown_customer_is_404(client):
    expect_error(await client.get("/v1/customers/nobody/usage"), 404, "not_found")
