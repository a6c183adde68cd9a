"""lago/events.py through /api/v1/events: uniqueness per subscription, all-or-nothing batches, blocking at zero."""

from __future__ import annotations

from tests.lago.support import event, lago_ok, set_up, wallet_of


async def test_a_transaction_id_is_unique_per_subscription_not_per_customer(client) -> None:
    wallet_id = await set_up(client)
    await lago_ok(client.post("/api/v1/subscriptions", json={"subscription": {
        "external_customer_id": "acme", "plan_code": "pro", "external_id": "sub-acme-2"}}))
    await lago_ok(client.post("/api/v1/events", json={"event": event("same", 100)}))
    await lago_ok(client.post("/api/v1/events", json={"event": event("same", 100, "sub-acme-2")}))
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 800


async def test_a_batch_with_one_bad_event_records_none_and_keys_errors_by_index(client) -> None:
    wallet_id = await set_up(client)
    await lago_ok(client.post("/api/v1/events", json={"event": event("e-1", 100)}))
    batch = [event("e-2", 100), event("e-1", 100), {**event("e-3", 1), "code": "nope"}]
    refused = await lago_ok(client.post("/api/v1/events/batch", json={"events": batch}), 422)
    assert refused["code"] == "validation_errors"
    assert refused["error_details"]["1"] == {"transaction_id": ["value_already_exist"]}
    assert set(refused["error_details"]) == {"1", "2"}
    assert (await client.get("/api/v1/events/e-2")).status_code == 404
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 900
    too_many = [event(f"m-{i}", 1) for i in range(101)]
    refused = await lago_ok(client.post("/api/v1/events/batch", json={"events": too_many}), 422)
    assert refused["error_details"] == {"events": ["too_many_events"]}


async def test_blocking_at_zero_refuses_an_unfunded_batch_with_402_and_writes_nothing(blocking_client) -> None:
    client = blocking_client
    wallet_id = await set_up(client, granted="1.0")
    batch = [event("e-1", 50), event("e-2", 60), event("e-3", 10)]
    refused = await lago_ok(client.post("/api/v1/events/batch", json={"events": batch}), 402)
    assert (refused["status"], refused["code"]) == (402, "insufficient_funds")
    assert refused["error_details"] == {"1": ["insufficient_funds"]}
    assert (await client.get("/api/v1/events/e-1")).status_code == 404
    wallet = await wallet_of(client, wallet_id)
    assert (wallet["balance_cents"], wallet["ongoing_balance_cents"]) == (100, 100)
    await lago_ok(client.post("/api/v1/events/batch", json={"events": [event("e-1", 50), event("e-3", 50)]}))
    wallet = await wallet_of(client, wallet_id)
    assert (wallet["balance_cents"], wallet["ongoing_balance_cents"], wallet["ongoing_usage_balance_cents"]) == (
        0, 0, 0
    )


async def test_without_blocking_the_rest_is_due_and_the_next_credits_pay_it_first(client) -> None:
    wallet_id = await set_up(client, granted="1.0")
    await lago_ok(client.post("/api/v1/events", json={"event": event("e-1", 250)}))
    wallet = await wallet_of(client, wallet_id)
    assert (wallet["balance_cents"], wallet["ongoing_balance_cents"], wallet["ongoing_usage_balance_cents"]) == (
        0, -150, 150
    )
    await lago_ok(client.post("/api/v1/wallet_transactions", json={"wallet_transaction": {
        "wallet_id": wallet_id, "granted_credits": "5.0"}}))
    wallet = await wallet_of(client, wallet_id)
    assert (wallet["balance_cents"], wallet["ongoing_balance_cents"], wallet["ongoing_usage_balance_cents"]) == (
        350, 350, 0
    )


async def test_current_usage_and_estimates_round_each_fee_half_up_to_cents(client) -> None:
    wallet_id = await set_up(client, charge={"charge_model": "standard", "properties": {"amount": "0.005"}})
    estimate = {"code": "tokens", "external_subscription_id": "sub-acme", "properties": {"tokens": 3}}
    (fee,) = (await lago_ok(client.post("/api/v1/events/estimate_fees", json={"event": estimate})))["fees"]
    # 3 x 0.005 = 0.015 USD: 1.5 cents, half-up to 2; an estimate records and charges nothing.
    assert (fee["amount_cents"], fee["units"], fee["item"]["code"]) == (2, "3", "tokens")
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 1000
    await lago_ok(client.post("/api/v1/events", json={"event": event("e-1", 3)}))
    usage = (await lago_ok(client.get("/api/v1/customers/acme/current_usage",
                                      params={"external_subscription_id": "sub-acme"})))["customer_usage"]
    assert (usage["charges_usage"][0]["amount_cents"], usage["amount_cents"]) == (2, 2)
