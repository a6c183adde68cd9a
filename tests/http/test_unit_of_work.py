"""One transaction per request: a refused request writes nothing; the replay commits with the work."""

from __future__ import annotations

from sqlalchemy import select

from creditflow.db.tables import idempotency_keys
from tests.factories import debit, grant, hold, make_customer, wallet
from tests.http.support import ledger_state


async def _funded(client, amount: str = "10.00") -> str:
    customer = (await make_customer(client))["id"]
    await grant(client, customer, amount)
    return customer


async def _key_rows(app) -> list:
    async with app.state.engine.connect() as conn:
        return list((await conn.execute(select(idempotency_keys))).all())


async def test_capture_beyond_the_hold_without_funds_is_402_and_consumes_nothing(client):
    customer = await _funded(client, "10.00")
    hold_id = (await hold(client, customer, "8.00")).json()["id"]
    state = await ledger_state(client)
    response = await client.post(f"/v1/holds/{hold_id}/capture", json={"amount": "10.01"})
    assert response.status_code == 402, response.text
    assert await ledger_state(client) == state
    held = (await client.get(f"/v1/holds/{hold_id}")).json()
    assert (held["status"], held["reserved"], held["captured"]) == ("active", "8.00", "0.00")


async def test_refund_beyond_the_debit_is_409_and_writes_nothing(client):
    customer = await _funded(client)
    debit_id = (await debit(client, customer, "3.00")).json()["id"]
    assert (await client.post(f"/v1/debits/{debit_id}/refund", json={"amount": "2.00"})).status_code == 201
    state = await ledger_state(client)
    response = await client.post(f"/v1/debits/{debit_id}/refund", json={"amount": "1.01"})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "refund_exceeds_debit"
    assert await ledger_state(client) == state


async def test_second_void_of_a_hold_is_409_and_writes_nothing(client):
    customer = await _funded(client)
    hold_id = (await hold(client, customer, "3.00")).json()["id"]
    assert (await client.post(f"/v1/holds/{hold_id}/void")).status_code == 200
    state = await ledger_state(client)
    response = await client.post(f"/v1/holds/{hold_id}/void")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "hold_not_active"
    assert await ledger_state(client) == state


async def test_successful_post_stores_its_response_in_the_same_commit(app, client):
    customer = await _funded(client)
    response = await client.post("/v1/holds", json={"customer": customer, "amount": "1.00"},
                                 headers={"Idempotency-Key": "stored"})
    assert response.status_code == 201
    [row] = [r for r in await _key_rows(app) if r.key == "stored"]
    assert (row.status, row.response_status) == ("completed", 201)
    assert row.response_body == response.text


async def test_refused_post_leaves_no_idempotency_row(app, client):
    customer = (await make_customer(client))["id"]
    for path in ("/v1/holds", "/v1/debits"):
        response = await client.post(path, json={"customer": customer, "amount": "1.00"},
                                     headers={"Idempotency-Key": "refused"})
        assert response.status_code == 402
    assert [r for r in await _key_rows(app) if r.key == "refused"] == []


async def test_validation_failure_leaves_no_idempotency_row(app, client):
    response = await client.post("/v1/customers", json={"external_id": ""}, headers={"Idempotency-Key": "bad"})
    assert response.status_code == 422
    assert await _key_rows(app) == []


async def test_get_runs_in_its_own_transaction_and_sees_committed_writes(client):
    customer = await _funded(client, "4.00")
    assert (await debit(client, customer, "1.50")).status_code == 201
    assert (await wallet(client, customer))["posted"] == "2.50"
