"""Scenario: a messaging API charging 100 CREDITS per message from a CREDITS wallet.

The customer's second wallet, in CREDITS, gets 100,050 credits: exactly 1,000 messages and 50 over.
The first 100 messages go one by one through POST /v1/events, every tenth sent twice (the answer was
lost); the other 900 go through POST /v1/events/batch, 100 per request, each batch also carrying a
retry of one of its own messages, of the previous batch's last and of a single send, and the last
batch is sent twice whole. Every retry is answered as a duplicate of the original event and never
charged. Then the balance, the wallet's whole history and the whole event list are checked to the
credit; sends are refused with 402 while the balance is below 100, and nothing is recorded for them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from tests.factories import balance, customer_id, expect_error, grant, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, send
from tests.scenarios._helpers import every_page, moves

GRANTED = 100_050
SINGLES = 100
MESSAGES = 1_000
BATCH = 100
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
REPORT_END = "2026-03-10T10:00:00Z"  # exclusive, so it must be past the events stamped at NOW


def _message(customer: str, n: int) -> dict[str, Any]:
    return {"customer": customer, "metric": "messages", "transaction_id": f"msg-{n}"}


async def _send_singly(client: httpx.AsyncClient, customer: str, event_ids: dict[str, str]) -> int:
    """msg-0 .. msg-99 through POST /v1/events, every tenth twice; returns how many duplicates were answered."""
    duplicates = 0
    for n in range(SINGLES):
        sent = ok(await send(client, customer, "messages", f"msg-{n}"), 201)
        assert (sent["cost"], sent["currency"], sent["quantity"], sent["duplicate"]) == ("100", "CREDITS", "1", False)
        assert sent["wallet"] == {"available": str(GRANTED - 100 * (n + 1))}
        event_ids[f"msg-{n}"] = sent["id"]
        if n % 10 == 0:
            again = ok(await send(client, customer, "messages", f"msg-{n}"), 200)
            assert (again["id"], again["duplicate"], again["cost"]) == (sent["id"], True, "100")
            assert again["wallet"] == sent["wallet"]
            duplicates += 1
    return duplicates


async def _send_in_batches(client: httpx.AsyncClient, customer: str, event_ids: dict[str, str]) -> int:
    """msg-100 .. msg-999 through POST /v1/events/batch; returns how many duplicates were answered."""
    duplicates = 0
    last_batch: list[dict[str, Any]] = []
    for start in range(SINGLES, MESSAGES, BATCH):
        fresh = [_message(customer, n) for n in range(start, start + BATCH)]
        # Retries in the middle of the batch: one of its own (sent 50 events earlier), the previous
        # request's last message, and one that went through POST /v1/events.
        retried = [start, start - 1, start - SINGLES]
        last_batch = fresh[:50] + [_message(customer, n) for n in retried] + fresh[50:]
        answer = ok(await client.post("/v1/events/batch", json={"events": last_batch}))
        assert (answer["accepted"], answer["duplicates"], answer["rejected"]) == (100, 3, 0)
        results = answer["results"]
        assert [r["status"] for r in results] == ["accepted"] * 50 + ["duplicate"] * 3 + ["accepted"] * 50
        for result in results[:50] + results[53:]:
            event = result["event"]
            assert (event["cost"], event["currency"], event["duplicate"]) == ("100", "CREDITS", False)
            event_ids[event["transaction_id"]] = event["id"]
        assert [r["event"]["id"] for r in results[50:53]] == [event_ids[f"msg-{n}"] for n in retried]
        assert all(r["event"]["duplicate"] and r["event"]["cost"] == "100" for r in results[50:53])
        duplicates += answer["duplicates"]

    # The last request again, whole (its answer was lost): 103 duplicates, nothing charged.
    again = ok(await client.post("/v1/events/batch", json={"events": last_batch}))
    assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 103, 0)
    assert [r["event"]["id"] for r in again["results"]] == [
        event_ids[e["transaction_id"]] for e in last_batch
    ]
    return duplicates + again["duplicates"]


async def test_a_thousand_messages_with_retries_cost_exactly_a_thousand_times_100_credits(client, clock, app):
    clock.set(NOW)
    customer = await customer_id(client)
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    lot = await grant(client, customer, str(GRANTED), currency="CREDITS")
    await make_metric(client, "messages")
    price = {"metric": "messages", "currency": "CREDITS", "model": "standard", "properties": {"amount": "100"}}
    ok(await client.post("/v1/prices", json=price), 201)

    event_ids: dict[str, str] = {}
    duplicates = await _send_singly(client, customer, event_ids)
    duplicates += await _send_in_batches(client, customer, event_ids)

    # 1,140 events sent: 1,000 messages and 140 retries (10 single, 27 inside batches, 103 in the resent batch).
    assert (len(event_ids), duplicates) == (1000, 140)
    # 100,050 - 1,000 x 100 = 50 credits; the USD wallet is untouched.
    assert balance(await wallet(client, customer, "CREDITS")) == ("50", "0", "50")
    assert balance(await wallet(client, customer, "USD")) == ("0.00", "0.00", "0.00")

    # The event list: exactly the 1,000 messages, once each, newest first, 100 credits each.
    events = await every_page(client, "/v1/events", customer=customer)
    assert [e["transaction_id"] for e in events] == [f"msg-{n}" for n in reversed(range(MESSAGES))]
    assert {e["transaction_id"]: e["id"] for e in events} == event_ids
    assert {(e["metric"], e["quantity"], e["cost"], e["currency"], e["refunded"]) for e in events} == {
        ("messages", "1", "100", "CREDITS", "0")
    }

    # The wallet's history: the grant, then one debit of 100 per message sent singly, naming its event,
    # and one debit of 10,000 per batch (its 100 new messages share it), counting its events; each moves
    # the credits from the lot to revenue, and every event names the debit that charged it.
    history = await every_page(client, "/v1/transactions", customer=customer)
    assert len(history) == 1 + SINGLES + (MESSAGES - SINGLES) // BATCH
    grant_op = history[-1]
    assert (grant_op["kind"], grant_op["amount"], grant_op["currency"], grant_op["reference"]) == (
        "grant", "100050", "CREDITS", lot["id"]
    )
    assert moves(grant_op) == [("sys_topups_CREDITS", lot["id"], "100050", "grant")]
    singles, batches = history[-1 - SINGLES:-1], history[:-1 - SINGLES]
    assert {(op["kind"], op["amount"], op["currency"], op["description"]) for op in singles} == {
        ("debit", "100", "CREDITS", "usage: messages")
    }
    assert {tuple(moves(op)) for op in singles} == {((lot["id"], "sys_revenue_CREDITS", "100", "debit"),)}
    assert sorted(op["metadata"]["event"] for op in singles) == sorted(event_ids[f"msg-{n}"] for n in range(SINGLES))
    assert {(op["kind"], op["amount"], op["description"], tuple(sorted(op["metadata"].items()))) for op in batches} == {
        ("debit", "10000", "usage: messages", (("events", "100"), ("metric", "messages")))
    }
    assert {tuple(moves(op)) for op in batches} == {((lot["id"], "sys_revenue_CREDITS", "10000", "debit"),)}
    by_operation: dict[str, int] = {}
    for event in events:
        by_operation[event["operation"]] = by_operation.get(event["operation"], 0) + 1
    assert by_operation == {op["id"]: 1 for op in singles} | {op["id"]: 100 for op in batches}

    usage = ok(await client.get(f"/v1/customers/{customer}/usage", params={"group_by": "metric", "to": REPORT_END}))
    assert [(b["metric"], b["currency"], b["units"], b["events"], b["cost"]) for b in usage["data"]] == [
        ("messages", "CREDITS", "1000", 1000, "100000")
    ]

    # 50 credits left, below the price of one message: refused, singly and in a batch, and not recorded.
    expect_error(await send(client, customer, "messages", "msg-1000"), 402, "insufficient_funds")
    refused = ok(await client.post("/v1/events/batch", json={"events": [_message(customer, n) for n in (1001, 1002)]}))
    assert (refused["accepted"], refused["duplicates"], refused["rejected"]) == (0, 0, 2)
    assert {(r["error"]["code"], r["error"]["status"]) for r in refused["results"]} == {("insufficient_funds", 402)}
    assert len(await every_page(client, "/v1/events", customer=customer)) == 1000
    assert len(await every_page(client, "/v1/transactions", customer=customer)) == len(history)
    assert balance(await wallet(client, customer, "CREDITS")) == ("50", "0", "50")

    # 50 more make exactly 100: the refused message goes through now (it was never recorded, so it is
    # no duplicate), and the next one is refused again.
    await grant(client, customer, "50", currency="CREDITS")
    sent = ok(await send(client, customer, "messages", "msg-1000"), 201)
    assert (sent["cost"], sent["duplicate"], sent["wallet"]) == ("100", False, {"available": "0"})
    expect_error(await send(client, customer, "messages", "msg-1001"), 402, "insufficient_funds")
    assert balance(await wallet(client, customer, "CREDITS")) == ("0", "0", "0")
    assert await ledger_problems(app) == []
