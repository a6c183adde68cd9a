"""POST /v1/events/batch through its group-committed fast path: concurrent requests share a transaction but
keep their own answers, debits and refusals; keys, scopes and Idempotency-Key behave as on every route; what
the fast path does not take falls through to the route, with the same result."""

from __future__ import annotations

import asyncio
import json

import httpx

from creditflow.db.tx import Tx
from creditflow.keys.service import create_key, revoke_key
from tests.factories import expect_error, make_api_key, ok, usage_client, wallet
from tests.metering._helpers import funded, ledger_problems, make_metric, make_price


def _event(customer: str, transaction_id: str, **fields) -> dict:
    return {"customer": customer, "metric": "calls", "transaction_id": transaction_id, **fields}


async def _calls(client, amount: str = "1.00") -> None:
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": amount})


async def test_concurrent_batches_each_get_their_own_answer_and_debit(client, app):
    customers = [await funded(client, "100.00") for _ in range(3)]
    await _calls(client)

    def batch(n: int) -> dict:
        # Two requests per customer, and every request also retries one event of another request.
        customer = customers[n % 3]
        return {"events": [_event(customer, f"r{n}-{i}") for i in range(5)] + [_event(customer, f"r{(n + 3) % 6}-0")]}

    answers = [ok(r) for r in await asyncio.gather(*(client.post("/v1/events/batch", json=batch(n)) for n in range(6)))]

    # 30 distinct events, each accepted once, whichever request it came in first; the 6 repeats are duplicates.
    assert (sum(a["accepted"] for a in answers), sum(a["duplicates"] for a in answers)) == (30, 6)
    accepted = {}
    for n, answer in enumerate(answers):
        results = answer["results"]
        assert [r["event"]["transaction_id"] for r in results] == [e["transaction_id"] for e in batch(n)["events"]]
        mine = [r["event"] for r in results if r["status"] == "accepted"]
        assert len({e["operation"] for e in mine}) == 1  # one debit per request (and wallet), not per transaction
        accepted.update({e["transaction_id"]: e for e in mine})
    assert len({answer["results"][1]["event"]["operation"] for answer in answers}) == 6
    for answer in answers:
        for result in answer["results"]:
            if result["status"] == "duplicate":
                assert result["event"]["id"] == accepted[result["event"]["transaction_id"]]["id"]
    for customer in customers:
        assert (await wallet(client, customer))["available"] == "90.00"
    assert await ledger_problems(app) == []


async def test_a_revoked_key_is_refused_and_a_usage_key_is_served(client, app):
    customer = await funded(client, "10.00")
    await _calls(client)
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=app.state.clock.now(), actor="test")
        key, secret = await create_key(tx, "old")
        await revoke_key(tx, key.id)
    body = {"events": [_event(customer, "t1")]}

    expect_error(await client.post("/v1/events/batch", json=body, headers={"Authorization": f"Bearer {secret}"}),
                 401, "unauthenticated")
    expect_error(await client.post("/v1/events/batch", json=body, headers={"Authorization": ""}), 401,
                 "unauthenticated")
    async with await usage_client(app) as gateway:
        answer = ok(await gateway.post("/v1/events/batch", json=body))
    assert answer["accepted"] == 1
    assert (await wallet(client, customer))["available"] == "9.00"


async def test_an_idempotency_key_replays_the_batch_answer(client, app):
    customer = await funded(client, "10.00")
    await _calls(client)
    body = {"events": [_event(customer, "t1"), _event(customer, "t2")]}
    headers = {"Idempotency-Key": "batch-1"}

    first = await client.post("/v1/events/batch", json=body, headers=headers)
    again = await client.post("/v1/events/batch", json=body, headers=headers)

    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json() == first.json()
    assert again.json()["accepted"] == 2
    expect_error(await client.post("/v1/events/batch", json={"events": [_event(customer, "t3")]}, headers=headers),
                 409, "idempotency_key_reused")
    assert (await wallet(client, customer))["available"] == "8.00"


async def test_what_the_fast_path_does_not_take_gets_the_routes_answer(client, app):
    customer = await funded(client, "10.00")
    await _calls(client, "0.001")
    key = (await make_api_key(client, customer))["id"]

    # Not a batch the fast path takes: the route refuses it as a whole.
    expect_error(await client.post("/v1/events/batch", json={"events": [1]}), 422, "validation_error")
    expect_error(await client.post("/v1/events/batch", json={"events": []}), 422, "validation_error")
    extra = {"events": [_event(customer, "x")], "more": 1}
    expect_error(await client.post("/v1/events/batch", json=extra), 422, "validation_error")
    not_json = await client.post("/v1/events/batch", content=b"{", headers={"Content-Type": "application/json"})
    assert not_json.status_code == 400

    # Over 64 KiB: served by the route, the same way.
    events = [_event(customer, f"{n:04d}-" + "x" * 80, api_key=key) for n in range(1000)]
    body = json.dumps({"events": events}).encode()
    assert len(body) > 64 * 1024
    answer = ok(await client.post("/v1/events/batch", content=body, headers={"Content-Type": "application/json"}))
    assert answer["accepted"] == 1000
    assert len({r["event"]["operation"] for r in answer["results"]}) == 1
    debit = ok(await client.get(f"/v1/debits/{answer['results'][0]['event']['operation']}"))
    assert (debit["amount"], debit["api_key"], debit["metadata"]["events"]) == ("1.00", key, "1000")
    assert (await wallet(client, customer))["available"] == "9.00"
    assert await ledger_problems(app) == []


async def test_batches_from_two_operator_keys_record_each_keys_actor(client, app, operator_key):
    customer = await funded(client, "10.00")
    await _calls(client)
    async with app.state.engine.begin() as conn:
        other, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "other")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://creditflow.test",
                                 headers={"Authorization": f"Bearer {secret}"}) as second:
        mine, theirs = await asyncio.gather(
            client.post("/v1/events/batch", json={"events": [_event(customer, "a"), _event(customer, "b")]}),
            second.post("/v1/events/batch", json={"events": [_event(customer, "c")]}),
        )
    history = {op["id"]: op for op in ok(await client.get("/v1/transactions", params={"customer": customer}))["data"]}
    assert history[ok(theirs)["results"][0]["event"]["operation"]]["actor"] == f"key:{other.id}"
    assert history[ok(mine)["results"][0]["event"]["operation"]]["actor"] != f"key:{other.id}"
    assert (await wallet(client, customer))["available"] == "7.00"
