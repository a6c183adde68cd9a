"""metering/events.py and queries.py through /v1/events: rating, charging, idempotency, batches, refunds."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from creditflow.db.tx import Tx
from creditflow.metering.events import ingest
from creditflow.metering.models import EventRequest, EventResult
from tests.factories import expect_error, grant, make_customer, ok, parse_time, wallet
from tests.metering._helpers import events_of, funded, ledger_problems, make_metric, make_price, send

GRADUATED = [
    {"from": "0", "to": "100", "per_unit": "0.10", "flat": "0"},
    {"from": "100", "to": "500", "per_unit": "0.05", "flat": "2.00"},
    {"from": "500", "to": None, "per_unit": "0.01", "flat": "0"},
]


def _graduated_by_hand(units: Decimal) -> Decimal:
    bill = min(units, Decimal(100)) * Decimal("0.10")
    if units > 100:
        bill += (min(units, Decimal(500)) - 100) * Decimal("0.05") + Decimal("2.00")
    if units > 500:
        bill += (units - 500) * Decimal("0.01")
    return bill


async def _tokens(client, amount: str = "0.01", **price_fields) -> None:
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", properties={"amount": amount}, **price_fields)


async def test_count_event_is_charged_in_real_time(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.10"})
    first = ok(await send(client, customer, "calls", "c1"), 201)
    assert first["id"].startswith("evt")
    assert (first["cost"], first["currency"], first["quantity"]) == ("0.10", "USD", "1")
    assert first["wallet"] == {"available": "9.90"}
    second = ok(await send(client, customer, "calls", "c2"), 201)
    assert second["wallet"] == {"available": "9.80"}
    assert (await wallet(client, customer))["available"] == "9.80"
    assert await ledger_problems(app) == []


async def test_sum_event_is_charged_for_its_field(client):
    customer = await funded(client, "10.00")
    await _tokens(client)
    event = ok(await send(client, customer, "tokens", "t1", properties={"tokens": "150"}), 201)
    assert (event["cost"], event["quantity"], event["wallet"]["available"]) == ("1.50", "150", "8.50")


async def test_sum_event_without_its_field_is_422_naming_the_property(client):
    customer = await funded(client)
    await _tokens(client)
    response = await send(client, customer, "tokens", "t1", properties={"other": "1"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "properties.tokens"
    assert await events_of(client, customer) == []


async def test_negative_value_is_422(client):
    customer = await funded(client)
    await _tokens(client)
    response = await send(client, customer, "tokens", "t1", properties={"tokens": "-5"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "properties.tokens"


async def test_non_numeric_value_is_422(client):
    customer = await funded(client)
    await _tokens(client)
    for n, value in enumerate(["abc", True, "1e3", "0.0000001"]):
        response = await send(client, customer, "tokens", f"t{n}", properties={"tokens": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["error"]["param"] == "properties.tokens"
    assert (await wallet(client, customer))["available"] == "100.00"


async def test_json_number_value_is_read_exactly(client, app):
    customer = await funded(client, "10.00")
    await _tokens(client, amount="10.00")
    response = await client.post(
        "/v1/events",
        content=b'{"customer": "%s", "metric": "tokens", "transaction_id": "t1", "properties": {"tokens": 0.1}}'
        % customer.encode(),
        headers={"Content-Type": "application/json"},
    )
    event = ok(response, 201)
    assert (event["quantity"], event["cost"]) == ("0.1", "1.00")
    stored = ok(await client.get(f"/v1/events/{event['id']}"))
    assert Decimal(str(stored["properties"]["tokens"])) == Decimal("0.1")
    assert await ledger_problems(app) == []


async def test_timestamp_older_than_the_late_window_is_422_event_too_old(client, clock):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    old = (clock.now() - timedelta(hours=24, seconds=1)).isoformat()
    error = expect_error(await send(client, customer, "calls", "c1", timestamp=old), 422, "event_too_old")
    assert error["param"] == "timestamp"
    recent = (clock.now() - timedelta(hours=23)).isoformat()
    assert ok(await send(client, customer, "calls", "c2", timestamp=recent), 201)["cost"] == "1.00"


async def test_timestamp_more_than_5_minutes_ahead_is_422(client, clock):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    ahead = (clock.now() + timedelta(minutes=5, seconds=1)).isoformat()
    response = await send(client, customer, "calls", "c1", timestamp=ahead)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["param"] == "timestamp"
    near = (clock.now() + timedelta(minutes=4)).isoformat()
    assert ok(await send(client, customer, "calls", "c2", timestamp=near), 201)


async def test_rfc3339_and_epoch_second_timestamps(client, clock):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    rfc = ok(await send(client, customer, "calls", "c1", timestamp="2026-01-01T05:30:00+07:00"), 201)
    assert parse_time(rfc["timestamp"]) == datetime(2025, 12, 31, 22, 30, tzinfo=UTC)
    epoch = int((clock.now() - timedelta(hours=1)).timestamp())
    by_epoch = ok(await send(client, customer, "calls", "c2", timestamp=epoch), 201)
    assert parse_time(by_epoch["timestamp"]) == clock.now() - timedelta(hours=1)
    default = ok(await send(client, customer, "calls", "c3"), 201)
    assert parse_time(default["timestamp"]) == clock.now()


async def test_fractional_epoch_seconds_are_read_exactly(client, clock):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    epoch = int(clock.now().timestamp()) - 60
    response = await client.post(
        "/v1/events",
        content=b'{"customer": "%s", "metric": "calls", "transaction_id": "c1", "timestamp": %d.000001}'
        % (customer.encode(), epoch),
        headers={"Content-Type": "application/json"},
    )
    event = ok(response, 201)
    assert parse_time(event["timestamp"]) == clock.now() - timedelta(seconds=60) + timedelta(microseconds=1)


async def test_free_units_per_period_are_not_charged(client):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", free_units_per_period="3")
    costs = [ok(await send(client, customer, "calls", f"c{n}"), 201)["cost"] for n in range(5)]
    assert costs == ["0.00", "0.00", "0.00", "1.00", "1.00"]
    assert (await wallet(client, customer))["available"] == "8.00"


async def test_period_rolls_over_at_the_month_boundary_in_the_customers_timezone(client, clock, app):
    customer = await funded(client, "100.00", timezone="Asia/Jakarta")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "1", "per_unit": "5.00"}, {"from": "1", "to": None, "per_unit": "1.00"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges}, free_units_per_period="1")
    clock.set(datetime(2026, 1, 31, 16, 0, tzinfo=UTC))  # 23:00 on 31 January in Jakarta
    january = [ok(await send(client, customer, "calls", f"jan{n}"), 201)["cost"] for n in range(3)]
    assert january == ["0.00", "5.00", "1.00"]
    clock.set(datetime(2026, 1, 31, 18, 0, tzinfo=UTC))  # 01:00 on 1 February in Jakarta
    february = [ok(await send(client, customer, "calls", f"feb{n}"), 201)["cost"] for n in range(3)]
    assert february == ["0.00", "5.00", "1.00"]
    # A late event stamped in Jakarta's January still joins January's aggregate (within the late window).
    late = ok(await send(client, customer, "calls", "late", timestamp="2026-01-31T16:30:00Z"), 201)
    assert late["cost"] == "1.00"
    assert (await wallet(client, customer))["available"] == "87.00"
    assert await ledger_problems(app) == []


async def test_package_pricing_charges_per_started_package(client):
    customer = await funded(client)
    await _tokens(client)
    await client.post("/v1/metrics/tokens/archive")
    await make_metric(client, "sms", "sum", field="parts")
    await make_price(client, "sms", "package", {"amount": "5.00", "package_size": "100", "free_units": "0"})
    costs = [ok(await send(client, customer, "sms", f"s{n}", properties={"parts": parts}), 201)["cost"]
             for n, parts in enumerate(["30", "50", "30", "90", "1"])]
    assert costs == ["5.00", "0.00", "5.00", "0.00", "5.00"]
    assert (await wallet(client, customer))["available"] == "85.00"


async def test_volume_pricing_credits_back_when_a_cheaper_tier_is_reached(client, app):
    customer = await funded(client, "20.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "10", "per_unit": "1.00"}, {"from": "10", "to": None, "per_unit": "0.50"}]
    await make_price(client, "calls", "volume", {"ranges": ranges})
    for n in range(10):
        ok(await send(client, customer, "calls", f"c{n}"), 201)
    assert (await wallet(client, customer))["available"] == "10.00"
    eleventh = ok(await send(client, customer, "calls", "c10"), 201)
    assert eleventh["cost"] == "-4.50"
    assert eleventh["wallet"]["available"] == "14.50"
    assert (await wallet(client, customer))["available"] == "14.50"
    assert ok(await send(client, customer, "calls", "c11"), 201)["cost"] == "0.50"
    assert (await wallet(client, customer))["available"] == "14.00"
    assert await ledger_problems(app) == []


async def test_volume_credit_back_can_be_spent_again(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "10", "per_unit": "1.00"}, {"from": "10", "to": None, "per_unit": "0.50"}]
    await make_price(client, "calls", "volume", {"ranges": ranges})
    for n in range(11):
        ok(await send(client, customer, "calls", f"c{n}"), 201)
    assert (await wallet(client, customer))["available"] == "4.50"
    ok(await client.post("/v1/debits", json={"customer": customer, "amount": "4.50"}), 201)
    assert (await wallet(client, customer))["available"] == "0.00"
    assert await ledger_problems(app) == []


async def test_insufficient_funds_is_402_and_the_event_is_not_recorded(client, app):
    customer = await funded(client, "1.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.60"})
    ok(await send(client, customer, "calls", "c1"), 201)
    expect_error(await send(client, customer, "calls", "c2"), 402, "insufficient_funds")
    assert [e["transaction_id"] for e in await events_of(client, customer)] == ["c1"]
    assert (await wallet(client, customer))["available"] == "0.40"
    await grant(client, customer, "1.00")
    retried = ok(await send(client, customer, "calls", "c2"), 201)
    assert (retried["cost"], retried["duplicate"], retried["wallet"]["available"]) == ("0.60", False, "0.80")
    assert await ledger_problems(app) == []


async def test_rejected_event_does_not_advance_the_aggregate(client):
    customer = await funded(client, "1.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "1", "per_unit": "1.00"}, {"from": "1", "to": None, "per_unit": "0.10"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges})
    ok(await send(client, customer, "calls", "c1"), 201)  # 1.00: the wallet is empty now
    expect_error(await send(client, customer, "calls", "c2"), 402, "insufficient_funds")
    await grant(client, customer, "0.10")
    assert ok(await send(client, customer, "calls", "c2"), 201)["cost"] == "0.10"


async def test_credit_limit_lets_an_event_through(client, app):
    customer = (await make_customer(client, credit_limit="5.00"))["id"]
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "2.00"})
    event = ok(await send(client, customer, "calls", "c1"), 201)
    assert event["wallet"]["available"] == "3.00"
    ok(await send(client, customer, "calls", "c2"), 201)
    expect_error(await send(client, customer, "calls", "c3"), 402, "insufficient_funds")
    assert (await wallet(client, customer))["available"] == "1.00"
    assert await ledger_problems(app) == []


async def test_duplicate_transaction_id_is_200_duplicate_and_not_charged(client):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls")
    first = ok(await send(client, customer, "calls", "c1"), 201)
    again = ok(await send(client, customer, "calls", "c1"), 200)
    assert again["duplicate"] is True
    assert (again["id"], again["cost"]) == (first["id"], first["cost"])
    assert again["wallet"]["available"] == "9.00"
    assert (await wallet(client, customer))["available"] == "9.00"
    assert len(await events_of(client, customer)) == 1


async def test_same_transaction_id_for_two_customers_is_two_events(client):
    alice = await funded(client, "10.00")
    bob = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls")
    ok(await send(client, alice, "calls", "shared"), 201)
    ok(await send(client, bob, "calls", "shared"), 201)
    assert (await wallet(client, bob))["available"] == "9.00"


async def test_concurrent_duplicates_charge_once(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls")
    responses = await asyncio.gather(*(send(client, customer, "calls", "same") for _ in range(5)))
    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    # The others are answered as duplicates (200), or at worst told to retry (409 conflict), never charged.
    assert set(codes) <= {200, 201, 409}, [r.text for r in responses]
    assert ok(await send(client, customer, "calls", "same"), 200)["duplicate"] is True
    assert (await wallet(client, customer))["available"] == "9.00"
    assert len(await events_of(client, customer)) == 1
    assert await ledger_problems(app) == []


async def test_batch_reports_accepted_duplicate_and_rejected_and_commits_the_accepted(client, app):
    customer = await funded(client, "3.00")
    await make_metric(client, "calls")
    await make_price(client, "calls")
    ok(await send(client, customer, "calls", "old"), 201)

    def ev(txn: str, **extra):
        return {"customer": customer, "metric": "calls", "transaction_id": txn, **extra}

    batch = ok(await client.post("/v1/events/batch", json={"events": [
        ev("a"),
        ev("old"),
        ev("a"),
        ev("x", metric="nope"),
        {"customer": customer, "metric": "calls"},
        ev("b"),
        ev("c"),  # the wallet is empty by now
        ev("late", timestamp="2025-12-01T00:00:00Z"),
    ]}))
    statuses = [r["status"] for r in batch["results"]]
    assert statuses == ["accepted", "duplicate", "duplicate", "rejected", "rejected", "accepted", "rejected",
                        "rejected"]
    assert (batch["accepted"], batch["duplicates"], batch["rejected"]) == (2, 2, 4)
    assert batch["results"][2]["event"]["id"] == batch["results"][0]["event"]["id"]
    errors = [r["error"] for r in batch["results"] if r["status"] == "rejected"]
    assert errors[0]["param"] == "metric"
    assert errors[1]["param"] == "transaction_id"
    assert (errors[2]["code"], errors[2]["status"]) == ("insufficient_funds", 402)
    assert errors[3]["code"] == "event_too_old"
    assert sorted(e["transaction_id"] for e in await events_of(client, customer)) == ["a", "b", "old"]
    assert (await wallet(client, customer))["available"] == "0.00"
    assert await ledger_problems(app) == []


async def test_batch_over_1000_events_is_422(client):
    customer = (await make_customer(client))["id"]
    events = [{"customer": customer, "metric": "calls", "transaction_id": f"t{n}"} for n in range(1001)]
    assert (await client.post("/v1/events/batch", json={"events": events})).status_code == 422


async def test_max_unique_count_and_latest_events_are_stored_at_no_cost_without_a_price(client):
    customer = await funded(client, "10.00")
    await make_metric(client, "seats", "max", field="seats")
    await make_metric(client, "users", "unique_count", field="user")
    await make_metric(client, "storage", "latest", field="gb")
    stored = [
        ok(await send(client, customer, "seats", "s1", properties={"seats": "7"}), 201),
        ok(await send(client, customer, "users", "u1", properties={"user": "ann"}), 201),
        ok(await send(client, customer, "storage", "g1", properties={"gb": "12.5"}), 201),
    ]
    assert [(e["cost"], e["currency"], e["wallet"]) for e in stored] == [("0", None, None)] * 3
    assert stored[0]["quantity"] == "7" and stored[2]["quantity"] == "12.5"
    assert len(await events_of(client, customer)) == 3
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_max_event_with_a_negative_value_is_422(client):
    customer = await funded(client)
    await make_metric(client, "seats", "max", field="seats")
    response = await send(client, customer, "seats", "s1", properties={"seats": "-1"})
    assert response.status_code == 422 and response.json()["error"]["param"] == "properties.seats"


async def test_get_event_by_id(client):
    customer = await funded(client)
    await _tokens(client)
    created = ok(await send(client, customer, "tokens", "t1", properties={"tokens": "5", "model": "x"}), 201)
    fetched = ok(await client.get(f"/v1/events/{created['id']}"))
    assert fetched["id"] == created["id"]
    assert (fetched["customer"], fetched["metric"], fetched["transaction_id"]) == (customer, "tokens", "t1")
    assert (fetched["cost"], fetched["quantity"], fetched["refunded"]) == ("0.05", "5", "0.00")
    assert fetched["properties"] == {"tokens": "5", "model": "x"}
    expect_error(await client.get("/v1/events/evt_nope"), 404, "not_found")


async def test_list_events_filters_by_customer_and_metric(client):
    alice = await funded(client)
    bob = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls")
    await _tokens(client)
    ok(await send(client, alice, "calls", "a1"), 201)
    ok(await send(client, alice, "tokens", "a2", properties={"tokens": "1"}), 201)
    ok(await send(client, bob, "calls", "b1"), 201)
    assert [e["transaction_id"] for e in await events_of(client, alice)] == ["a2", "a1"]
    assert [e["transaction_id"] for e in await events_of(client, alice, metric="calls")] == ["a1"]
    everyone = ok(await client.get("/v1/events", params={"metric": "calls"}))["data"]
    assert sorted(e["transaction_id"] for e in everyone) == ["a1", "b1"]
    page = ok(await client.get("/v1/events", params={"customer": alice, "limit": 1}))
    assert page["has_more"] is True and [e["transaction_id"] for e in page["data"]] == ["a2"]


async def test_list_events_of_unknown_customer_is_404(client):
    expect_error(await client.get("/v1/events", params={"customer": "cus_nope"}), 404, "not_found")


async def test_refund_an_event_returns_its_charge_once(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "2.50"})
    event = ok(await send(client, customer, "calls", "c1"), 201)
    refund = ok(await client.post(f"/v1/events/{event['id']}/refund"), 201)
    assert refund["amount"] == "2.50"
    assert (await wallet(client, customer))["available"] == "10.00"
    assert ok(await client.get(f"/v1/events/{event['id']}"))["refunded"] == "2.50"
    expect_error(await client.post(f"/v1/events/{event['id']}/refund"), 409, "nothing_to_refund")
    assert (await wallet(client, customer))["available"] == "10.00"
    assert await ledger_problems(app) == []


async def test_refund_of_a_free_event_is_409_nothing_to_refund(client):
    customer = await funded(client)
    await make_metric(client, "calls")
    await make_price(client, "calls", free_units_per_period="1")
    event = ok(await send(client, customer, "calls", "c1"), 201)
    expect_error(await client.post(f"/v1/events/{event['id']}/refund"), 409, "nothing_to_refund")


async def test_estimate_prices_an_event_and_writes_nothing(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "1", "per_unit": "1.00"}, {"from": "1", "to": None, "per_unit": "0.25"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges})
    body = {"customer": customer, "metric": "calls", "transaction_id": "e1"}
    first = ok(await client.post("/v1/events/estimate", json=body))
    second = ok(await client.post("/v1/events/estimate", json=body))
    assert first["cost"] == second["cost"] == "1.00"
    assert await events_of(client, customer) == []
    assert (await wallet(client, customer))["available"] == "10.00"
    real = ok(await client.post("/v1/events", json=body), 201)
    assert (real["cost"], real["duplicate"]) == ("1.00", False)
    assert ok(await client.post("/v1/events/estimate", json={**body, "transaction_id": "e2"}))["cost"] == "0.25"
    assert await ledger_problems(app) == []


async def test_estimate_with_bad_input_is_422(client):
    customer = await funded(client)
    await _tokens(client)
    body = {"customer": customer, "metric": "tokens", "transaction_id": "e1", "properties": {}}
    response = await client.post("/v1/events/estimate", json=body)
    assert response.status_code == 422 and response.json()["error"]["param"] == "properties.tokens"


async def test_unknown_customer_is_404_naming_customer(client):
    await make_metric(client, "calls")
    await make_price(client, "calls")
    error = expect_error(await send(client, "cus_nope", "calls", "c1"), 404, "not_found")
    assert error["param"] == "customer"


async def test_a_months_charges_add_up_to_the_graduated_bill(client, clock, app):
    customer = await funded(client, "1000.00")
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", "graduated", {"ranges": GRADUATED})
    sizes = [Decimal((n * 37) % 53 + 1) + Decimal(n % 4) / 4 for n in range(30)]
    total_cost = Decimal(0)
    for n, size in enumerate(sizes):
        event = ok(await send(client, customer, "tokens", f"t{n}", properties={"tokens": str(size)}), 201)
        total_cost += Decimal(event["cost"])
        clock.advance(hours=20)
    units = sum(sizes)
    assert units > 500
    expected = _graduated_by_hand(units)
    assert total_cost == expected
    assert Decimal((await wallet(client, customer))["available"]) == Decimal("1000.00") - expected
    assert await ledger_problems(app) == []


async def test_batch_with_a_json_number_value_still_commits_its_events(client):
    customer = await funded(client, "10.00")
    await _tokens(client, amount="1.00")
    body = (b'{"events": [{"customer": "%s", "metric": "tokens", "transaction_id": "n1", "properties": {"tokens": 2}},'
            b' {"customer": "%s", "metric": "tokens", "transaction_id": "n2", "properties": {"tokens": 0.5}}]}'
            % (customer.encode(), customer.encode()))
    response = await client.post("/v1/events/batch", content=body, headers={"Content-Type": "application/json"})
    batch = ok(response)
    assert [r["status"] for r in batch["results"]] == ["accepted", "accepted"]
    assert (await wallet(client, customer))["available"] == "7.50"


async def test_with_partial_cover_an_event_is_charged_what_the_wallet_has_and_the_rest_is_uncovered(client, app):
    customer = await funded(client, "1.00")
    await _tokens(client)
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=app.state.clock.now(), actor="test")
        (result,) = await ingest(
            tx, [EventRequest(customer=customer, metric="tokens", transaction_id="t1", properties={"tokens": "150"})],
            late_window=timedelta(hours=1), future_tolerance=timedelta(minutes=5), cover_partially=True,
        )
    assert isinstance(result, EventResult)
    assert (result.cost, result.uncovered, result.available) == (1_500_000, 500_000, 0)
    assert (await wallet(client, customer))["available"] == "0.00"
    assert [e["cost"] for e in await events_of(client, customer)] == ["1.50"]
    assert await ledger_problems(app) == []
