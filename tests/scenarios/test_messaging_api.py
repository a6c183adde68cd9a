"""Scenario: a messaging API charging 100 CREDITS per message from a CREDITS wallet.

1,000 messages, most through the batch endpoint, with retries (the same transaction_id again, inside
one batch, across batches and singly) that are answered as duplicates and never charged twice. Sends
are refused with 402 while the balance is below 100, and nothing is recorded for them.
"""

from __future__ import annotations

from tests.factories import expect_error, grant, make_customer, ok, wallet
from tests.metering._helpers import ledger_problems, make_metric, send


def _message(customer: str, n: int) -> dict:
    return {"customer": customer, "metric": "messages", "transaction_id": f"msg-{n}"}


async def test_a_thousand_messages_with_retries_cost_exactly_a_thousand_times_100_credits(client, app):
    customer = (await make_customer(client))["id"]
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    await grant(client, customer, "100050", currency="CREDITS")
    await make_metric(client, "messages")
    price = {"metric": "messages", "currency": "CREDITS", "model": "standard", "properties": {"amount": "100"}}
    ok(await client.post("/v1/prices", json=price), 201)

    accepted = duplicates = 0
    for start in range(0, 1000, 100):
        # Each batch repeats its first message (a retry inside the batch) and the previous batch's last.
        events = [_message(customer, n) for n in range(start, start + 100)] + [_message(customer, start)]
        if start:
            events.append(_message(customer, start - 1))
        answer = ok(await client.post("/v1/events/batch", json={"events": events}))
        accepted += answer["accepted"]
        duplicates += answer["duplicates"]
    retried = ok(await send(client, customer, "messages", "msg-999"))

    assert (accepted, duplicates) == (1000, 19)
    assert retried["duplicate"] is True and retried["cost"] == "100"
    credits = await wallet(client, customer, "CREDITS")
    assert (credits["posted"], credits["available"]) == ("50", "50")

    # 50 credits left: below the price of one message, so sends are refused and not recorded.
    expect_error(await send(client, customer, "messages", "msg-1000"), 402, "insufficient_funds")
    batch = ok(await client.post("/v1/events/batch", json={"events": [_message(customer, 1001)]}))
    assert batch["results"][0]["status"] == "rejected"
    assert batch["results"][0]["error"]["code"] == "insufficient_funds"

    events = ok(await client.get("/v1/events", params={"customer": customer, "limit": 100}))
    assert len(events["data"]) == 100 and events["has_more"] is True
    assert {e["transaction_id"] for e in events["data"]} <= {f"msg-{n}" for n in range(1000)}
    history = ok(await client.get("/v1/transactions", params={"customer": customer, "limit": 100}))
    debits = [t for t in history["data"] if t["kind"] == "debit"]
    assert debits and all(t["amount"] == "100" for t in debits)
    assert await ledger_problems(app) == []
