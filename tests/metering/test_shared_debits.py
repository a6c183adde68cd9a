"""A batch's charged events of one wallet and api key share one debit: its history, per-event refunds out
of it, refusals, budgets, credit-backs and retries in the middle of a batch."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from tests.factories import expect_error, grant, make_api_key, make_budget, ok, wallet
from tests.metering._helpers import funded, ledger_problems, make_metric, make_price, send
from tests.scenarios._helpers import every_page, moves


def _event(customer: str, transaction_id: str, metric: str = "calls", **fields) -> dict:
    return {"customer": customer, "metric": metric, "transaction_id": transaction_id, **fields}


async def _batch(client, *events: dict) -> dict:
    return ok(await client.post("/v1/events/batch", json={"events": list(events)}))


async def test_a_batch_charges_one_debit_per_wallet_and_api_key(client, app):
    alice, bob = await funded(client, "10.00"), await funded(client, "10.00")
    key_a, key_b = (await make_api_key(client, alice, name="a"))["id"], (await make_api_key(client, alice, name="b"))
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.50"})

    answer = await _batch(
        client,
        _event(alice, "a1"), _event(alice, "a2", api_key=key_a), _event(bob, "b1"), _event(alice, "a3"),
        _event(alice, "a4", api_key=key_a), _event(alice, "a5", api_key=key_b["id"]), _event(bob, "b2"),
        _event(alice, "a6"),
    )

    assert answer["accepted"] == 8
    events = [r["event"] for r in answer["results"]]
    # Each event answers the wallet as it was right after its own charge.
    assert [e["wallet"]["available"] for e in events] == ["9.50", "9.00", "9.50", "8.50", "8.00", "7.50", "9.00",
                                                          "7.00"]
    shared = {}
    for event in events:
        shared.setdefault(event["operation"], []).append(event["transaction_id"])
    assert sorted(shared.values()) == [["a1", "a3", "a6"], ["a2", "a4"], ["a5"], ["b1", "b2"]]

    debits = {op: ok(await client.get(f"/v1/debits/{op}")) for op in shared}
    assert sorted((d["customer"], d["amount"], d["api_key"], d["description"], d["metadata"].get("events"))
                  for d in debits.values()) == sorted([
        (alice, "1.50", None, "usage: calls", "3"), (alice, "1.00", key_a, "usage: calls", "2"),
        (alice, "0.50", key_b["id"], "usage: calls", None), (bob, "1.00", None, "usage: calls", "2"),
    ])
    # A debit of one event names it, as a debit per event always did.
    single = next(d for d in debits.values() if d["api_key"] == key_b["id"])
    assert single["metadata"] == {"event": events[5]["id"], "metric": "calls"}

    history = await every_page(client, "/v1/transactions", customer=alice)
    assert [op["kind"] for op in history] == ["debit", "debit", "debit", "grant"]
    lot = history[-1]["reference"]
    assert sorted(moves(op)[0] for op in history[:-1]) == sorted(
        [(lot, "sys_revenue_USD", amount, "debit") for amount in ("1.50", "1.00", "0.50")]
    )
    assert (await wallet(client, alice))["available"] == "7.00"
    assert (await wallet(client, bob))["available"] == "9.00"
    assert ok(await client.get(f"/v1/events/{events[3]['id']}"))["operation"] == events[0]["operation"]
    assert await ledger_problems(app) == []


async def test_a_shared_debit_draws_each_lot_once_in_draw_order(client, app):
    customer = await funded(client, "1.00")
    later = await grant(client, customer, "5.00", priority=1000)
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.40"})

    answer = await _batch(client, *[_event(customer, f"c{n}") for n in range(5)])

    operation = answer["results"][0]["event"]["operation"]
    history = await every_page(client, "/v1/transactions", customer=customer)
    (debit_op,) = [op for op in history if op["id"] == operation]
    first = history[-1]["reference"]
    assert moves(debit_op) == [
        (first, "sys_revenue_USD", "1.00", "debit"), (later["id"], "sys_revenue_USD", "1.00", "debit")
    ]
    drawn = ok(await client.get(f"/v1/debits/{operation}"))["drawn"]
    assert [(d["grant"], d["amount"]) for d in drawn] == [(first, "1.00"), (later["id"], "1.00")]
    assert (await wallet(client, customer))["available"] == "4.00"
    assert await ledger_problems(app) == []


async def test_refunding_one_event_of_a_shared_debit_refunds_only_its_cost_once(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "2.50"})
    events = [r["event"] for r in (await _batch(client, *[_event(customer, f"c{n}") for n in range(3)]))["results"]]
    operation = events[0]["operation"]
    assert {e["operation"] for e in events} == {operation}

    refund = ok(await client.post(f"/v1/events/{events[1]['id']}/refund"), 201)

    assert (refund["debit"], refund["amount"]) == (operation, "2.50")
    assert (await wallet(client, customer))["available"] == "5.00"
    assert ok(await client.get(f"/v1/events/{events[1]['id']}"))["refunded"] == "2.50"
    assert ok(await client.get(f"/v1/events/{events[0]['id']}"))["refunded"] == "0.00"
    shared = ok(await client.get(f"/v1/debits/{operation}"))
    assert (shared["amount"], shared["refunded"]) == ("7.50", "2.50")
    # The same event again: nothing left of its own cost, although its debit has more.
    expect_error(await client.post(f"/v1/events/{events[1]['id']}/refund"), 409, "nothing_to_refund")
    assert (await wallet(client, customer))["available"] == "5.00"

    ok(await client.post(f"/v1/events/{events[0]['id']}/refund"), 201)
    ok(await client.post(f"/v1/events/{events[2]['id']}/refund"), 201)
    assert (await wallet(client, customer))["available"] == "10.00"
    assert ok(await client.get(f"/v1/debits/{operation}"))["refunded"] == "7.50"
    expect_error(await client.post(f"/v1/debits/{operation}/refund"), 409, "refund_exceeds_debit")

    history = await every_page(client, "/v1/transactions", customer=customer)
    assert [(op["kind"], op["amount"], op["reference"]) for op in history[:4]] == [
        ("refund", "2.50", operation), ("refund", "2.50", operation), ("refund", "2.50", operation),
        ("debit", "7.50", None),
    ]
    assert await ledger_problems(app) == []


async def test_an_event_cannot_be_refunded_past_what_its_shared_debit_has_left(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "2.00"})
    events = [r["event"] for r in (await _batch(client, *[_event(customer, f"c{n}") for n in range(3)]))["results"]]
    operation = events[0]["operation"]

    # Most of the debit refunded directly, through the debit: one event's worth is left.
    ok(await client.post(f"/v1/debits/{operation}/refund", json={"amount": "4.00"}), 201)
    ok(await client.post(f"/v1/events/{events[0]['id']}/refund"), 201)
    expect_error(await client.post(f"/v1/events/{events[1]['id']}/refund"), 409, "refund_exceeds_debit")

    assert ok(await client.get(f"/v1/events/{events[1]['id']}"))["refunded"] == "0.00"
    assert (await wallet(client, customer))["available"] == "10.00"
    assert await ledger_problems(app) == []


async def test_concurrent_refunds_of_one_event_of_a_shared_debit_refund_it_once(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    events = [r["event"] for r in (await _batch(client, *[_event(customer, f"c{n}") for n in range(5)]))["results"]]

    responses = await asyncio.gather(*(client.post(f"/v1/events/{events[2]['id']}/refund") for _ in range(4)))

    codes = sorted(r.status_code for r in responses)
    assert codes.count(201) == 1, [r.text for r in responses]
    assert set(codes) <= {201, 409}, [r.text for r in responses]
    assert (await wallet(client, customer))["available"] == "6.00"
    assert ok(await client.get(f"/v1/debits/{events[0]['operation']}"))["refunded"] == "1.00"
    assert await ledger_problems(app) == []


async def test_an_event_refused_mid_batch_leaves_the_others_in_their_shared_debit(client, app):
    customer = await funded(client, "2.50")
    await make_metric(client, "tokens", "sum", field="tokens")
    await make_price(client, "tokens", properties={"amount": "1.00"})

    answer = await _batch(
        client, *[_event(customer, f"t{n}", "tokens", properties={"tokens": size})
                  for n, size in enumerate(["1", "1", "1", "0.5"])]
    )

    results = answer["results"]
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected", "accepted"]
    assert results[2]["error"]["code"] == "insufficient_funds"
    assert [r["event"]["wallet"]["available"] for r in results if r["event"]] == ["1.50", "0.50", "0.00"]
    operation = results[0]["event"]["operation"]
    debit = ok(await client.get(f"/v1/debits/{operation}"))
    assert (debit["amount"], debit["metadata"]) == ("2.50", {"events": "3", "metric": "tokens"})
    assert (await wallet(client, customer))["available"] == "0.00"
    assert await ledger_problems(app) == []


async def test_a_blocking_budget_refuses_the_event_that_would_pass_it_and_counts_the_others(client, app):
    customer = await funded(client, "100.00")
    budget = await make_budget(client, customer=customer, amount="2.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "0.75"})

    answer = await _batch(client, *[_event(customer, f"c{n}") for n in range(4)])

    assert [r["status"] for r in answer["results"]] == ["accepted", "accepted", "rejected", "rejected"]
    assert {r["error"]["code"] for r in answer["results"][2:]} == {"budget_exceeded"}
    period = ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]
    assert (period["spent"], period["remaining"]) == ("1.50", "0.50")
    assert ok(await client.get(f"/v1/debits/{answer['results'][0]['event']['operation']}"))["amount"] == "1.50"
    assert await ledger_problems(app) == []


async def test_a_volume_credit_back_inside_a_batch_is_its_own_operation(client, app):
    customer = await funded(client, "10.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "3", "per_unit": "1.00"}, {"from": "3", "to": None, "per_unit": "0.50"}]
    await make_price(client, "calls", "volume", {"ranges": ranges})

    answer = await _batch(client, *[_event(customer, f"c{n}") for n in range(5)])

    events = [r["event"] for r in answer["results"]]
    # 1.00 x 3; the fourth puts all four in the 0.50 tier: 2.00 - 3.00 = -1.00; the fifth costs 0.50.
    assert [e["cost"] for e in events] == ["1.00", "1.00", "1.00", "-1.00", "0.50"]
    assert [e["wallet"]["available"] for e in events] == ["9.00", "8.00", "7.00", "8.00", "7.50"]
    debit_op, credit_op = events[0]["operation"], events[3]["operation"]
    assert {events[1]["operation"], events[2]["operation"], events[4]["operation"]} == {debit_op}
    history = {op["id"]: op for op in await every_page(client, "/v1/transactions", customer=customer)}
    assert (history[debit_op]["kind"], history[debit_op]["amount"]) == ("debit", "3.50")
    assert history[debit_op]["metadata"] == {"events": "4", "metric": "calls"}
    assert (history[credit_op]["kind"], history[credit_op]["amount"]) == ("usage_credit", "1.00")
    assert history[credit_op]["metadata"] == {"event": events[3]["id"]}
    assert (await wallet(client, customer))["available"] == "7.50"
    assert await ledger_problems(app) == []


async def test_retries_inside_a_batch_are_duplicates_and_the_tiers_count_each_event_once(client, clock, app):
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    customer = await funded(client, "100.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "2", "per_unit": "1.00", "flat": "0"},
              {"from": "2", "to": None, "per_unit": "0.10", "flat": "0"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges})
    first = await _batch(client, _event(customer, "a"), _event(customer, "b"))

    again = await _batch(client, _event(customer, "c"), _event(customer, "a"), _event(customer, "d"),
                         _event(customer, "b"), _event(customer, "c"))

    assert [r["status"] for r in again["results"]] == ["accepted", "duplicate", "accepted", "duplicate", "duplicate"]
    assert [r["event"]["cost"] for r in again["results"]] == ["0.10", "1.00", "0.10", "1.00", "0.10"]
    assert again["results"][1]["event"]["id"] == first["results"][0]["event"]["id"]
    assert again["results"][4]["event"]["id"] == again["results"][0]["event"]["id"]
    assert (await wallet(client, customer))["available"] == "97.80"
    assert ok(await client.get(f"/v1/debits/{again['results'][0]['event']['operation']}"))["amount"] == "0.20"
    until = {"group_by": "metric", "to": "2026-04-02T10:00:00Z"}
    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params=until))["data"]
    assert [(b["units"], b["events"], b["cost"]) for b in usage] == [("4", 4, "2.20")]
    assert await ledger_problems(app) == []


async def test_a_retry_refused_for_funds_is_still_answered_as_the_duplicate_it_is(client, app):
    customer = await funded(client, "2.00")
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    original = ok(await send(client, customer, "calls", "a"), 201)

    answer = await _batch(client, _event(customer, "b"), _event(customer, "a"), _event(customer, "c"))

    assert [r["status"] for r in answer["results"]] == ["accepted", "duplicate", "rejected"]
    assert answer["results"][1]["event"]["id"] == original["id"]
    assert answer["results"][2]["error"]["code"] == "insufficient_funds"
    assert (await wallet(client, customer))["available"] == "0.00"
    assert await ledger_problems(app) == []


async def test_a_retry_stamped_in_a_new_period_leaves_that_period_untouched(client, clock, app):
    clock.set(datetime(2026, 4, 1, 0, 10, tzinfo=UTC))
    customer = await funded(client, "100.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "1", "per_unit": "1.00", "flat": "0"},
              {"from": "1", "to": None, "per_unit": "0.10", "flat": "0"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges})
    ok(await send(client, customer, "calls", "a", timestamp="2026-03-31T23:55:00Z"), 201)

    # The same event retried with another timestamp, in April: a duplicate, April's usage is still empty.
    retry = await _batch(client, _event(customer, "a", timestamp="2026-04-01T00:05:00Z"))
    assert [r["status"] for r in retry["results"]] == ["duplicate"]

    assert ok(await send(client, customer, "calls", "b"), 201)["cost"] == "1.00"
    assert (await wallet(client, customer))["available"] == "98.00"
    assert await ledger_problems(app) == []


async def test_a_batch_retried_whole_leaves_the_running_usage_as_it_was(client, clock, app):
    clock.set(datetime(2026, 4, 2, 9, tzinfo=UTC))
    customer = await funded(client, "100.00")
    await make_metric(client, "calls")
    ranges = [{"from": "0", "to": "3", "per_unit": "1.00", "flat": "0"},
              {"from": "3", "to": None, "per_unit": "0.10", "flat": "0"}]
    await make_price(client, "calls", "graduated", {"ranges": ranges})
    await _batch(client, _event(customer, "a"), _event(customer, "b"))

    retry = await _batch(client, _event(customer, "a"), _event(customer, "b"))
    assert [r["status"] for r in retry["results"]] == ["duplicate", "duplicate"]

    # The third unit is still in the first tier: the retry did not count a and b again.
    assert ok(await send(client, customer, "calls", "c"), 201)["cost"] == "1.00"
    until = {"group_by": "metric", "to": "2026-04-02T10:00:00Z"}
    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params=until))["data"]
    assert [(b["units"], b["events"], b["cost"]) for b in usage] == [("3", 3, "3.00")]
    assert (await wallet(client, customer))["available"] == "97.00"
    assert await ledger_problems(app) == []
