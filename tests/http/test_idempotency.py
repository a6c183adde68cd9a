"""Idempotency-Key on every POST: replays, reuse, in-flight leases, failures not stored, scope, retention."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from creditflow.db.tx import Tx
from creditflow.http import idempotency
from creditflow.keys.service import create_key, hash_key
from tests.factories import debit, grant, hold, make_customer, wallet
from tests.http.support import ledger_state, transactions

Setup = Callable[[httpx.AsyncClient], Awaitable[tuple[str, dict[str, Any] | None]]]


async def _customer_with(client: httpx.AsyncClient, amount: str = "10.00") -> str:
    customer = await make_customer(client)
    await grant(client, customer["id"], amount)
    return customer["id"]


async def _active_hold(client: httpx.AsyncClient) -> str:
    customer = await _customer_with(client)
    response = await hold(client, customer, "3.00")
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def setup_customers(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    return "/v1/customers", {"external_id": "ext-idem", "currency": "EUR"}


async def setup_credit_grants(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    customer = await make_customer(client)
    return "/v1/credit_grants", {"customer": customer["id"], "amount": "10.00", "category": "paid"}


async def setup_debits(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    return "/v1/debits", {"customer": await _customer_with(client), "amount": "2.50"}


async def setup_holds(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    return "/v1/holds", {"customer": await _customer_with(client), "amount": "3.00"}


async def setup_capture(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    return f"/v1/holds/{await _active_hold(client)}/capture", {"amount": "1.00"}


async def setup_hold_void(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    return f"/v1/holds/{await _active_hold(client)}/void", None


async def setup_grant_void(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    customer = await make_customer(client)
    lot = await grant(client, customer["id"], "10.00")
    return f"/v1/credit_grants/{lot['id']}/void", None


async def setup_refund(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    response = await debit(client, await _customer_with(client), "4.00")
    assert response.status_code == 201, response.text
    return f"/v1/debits/{response.json()['id']}/refund", {"amount": "1.00"}


async def setup_wallets(client: httpx.AsyncClient) -> tuple[str, dict[str, Any] | None]:
    customer = await make_customer(client)
    return f"/v1/customers/{customer['id']}/wallets", {"currency": "CREDITS", "credit_limit": "5"}


SETUPS: dict[str, Setup] = {
    "customers": setup_customers,
    "credit_grants": setup_credit_grants,
    "debits": setup_debits,
    "holds": setup_holds,
    "capture": setup_capture,
    "hold_void": setup_hold_void,
    "grant_void": setup_grant_void,
    "refund": setup_refund,
    "wallets": setup_wallets,
}


async def _post(
    client: httpx.AsyncClient, path: str, body: dict[str, Any] | None, key: str, **headers: str
) -> httpx.Response:
    return await client.post(path, json=body, headers={"Idempotency-Key": key, **headers})


@pytest.mark.parametrize("endpoint", list(SETUPS))
async def test_post_replayed_ten_times_changes_the_ledger_once_and_returns_the_stored_response(client, endpoint):
    path, body = await SETUPS[endpoint](client)
    before = await ledger_state(client)

    first = await _post(client, path, body, "retry-me")
    assert first.status_code in (200, 201), first.text
    assert "Idempotent-Replayed" not in first.headers
    after_first = await ledger_state(client)
    assert after_first != before

    for _ in range(9):
        replay = await _post(client, path, body, "retry-me")
        assert replay.status_code == first.status_code
        assert replay.headers["Idempotent-Replayed"] == "true"
        assert replay.content == first.content
    assert await ledger_state(client) == after_first


async def test_debit_replayed_ten_times_moves_money_once(client):
    customer = await _customer_with(client, "10.00")
    ops_before = len(await transactions(client))
    responses = [await _post(client, "/v1/debits", {"customer": customer, "amount": "2.50"}, "d-1") for _ in range(10)]
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    balance = await wallet(client, customer)
    assert (balance["posted"], balance["available"]) == ("7.50", "7.50")
    assert len(await transactions(client)) == ops_before + 1


async def test_hold_capture_replayed_ten_times_captures_once(client):
    hold_id = await _active_hold(client)
    customer = (await client.get(f"/v1/holds/{hold_id}")).json()["customer"]
    for _ in range(10):
        response = await _post(client, f"/v1/holds/{hold_id}/capture", {"amount": "1.00", "final": False}, "cap-1")
        assert response.status_code == 200, response.text
    state = (await client.get(f"/v1/holds/{hold_id}")).json()
    assert (state["captured"], state["reserved"], state["status"]) == ("1.00", "2.00", "active")
    balance = await wallet(client, customer)
    assert (balance["posted"], balance["held"], balance["available"]) == ("9.00", "2.00", "7.00")


async def test_concurrent_retries_with_one_key_move_money_once(client):
    customer = await _customer_with(client, "10.00")
    body = {"customer": customer, "amount": "1.00"}
    responses = await asyncio.gather(*(_post(client, "/v1/debits", body, "burst") for _ in range(10)))
    created = [r for r in responses if r.status_code == 201]
    assert created, [r.text for r in responses]
    assert all(
        r.status_code == 201 or r.json()["error"]["code"] == "idempotency_key_in_use" for r in responses
    ), [r.text for r in responses]
    assert len({r.json()["id"] for r in created}) == 1
    assert (await wallet(client, customer))["posted"] == "9.00"


@pytest.mark.parametrize("endpoint", ["debits", "holds", "credit_grants", "refund", "wallets"])
async def test_same_key_with_a_different_body_is_409_idempotency_key_reused(client, endpoint):
    path, body = await SETUPS[endpoint](client)
    assert body is not None
    first = await _post(client, path, body, "k")
    assert first.status_code == 201, first.text
    state = await ledger_state(client)
    changed = {**body, "metadata": {"differs": "yes"}} if endpoint in ("debits", "holds", "credit_grants") else {
        **body, **({"amount": "2.00"} if endpoint == "refund" else {"credit_limit": "6"})
    }
    response = await _post(client, path, changed, "k")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert await ledger_state(client) == state


async def test_same_key_with_an_undeclared_query_string_is_422_not_a_replay(client):
    path, body = await setup_debits(client)
    assert (await _post(client, path, body, "q")).status_code == 201
    state = await ledger_state(client)
    response = await client.post(path, params={"x": "1"}, json=body, headers={"Idempotency-Key": "q"})
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "x"
    assert await ledger_state(client) == state


async def test_json_number_and_string_amounts_with_the_same_value_replay(client):
    customer = await _customer_with(client)
    text = await _post(client, "/v1/debits", {"customer": customer, "amount": "1.5"}, "n")
    number = await client.post(
        "/v1/debits", content=f'{{"customer": "{customer}", "amount": 1.5}}'.encode(),
        headers={"Idempotency-Key": "n", "Content-Type": "application/json"},
    )
    assert number.headers.get("Idempotent-Replayed") == "true"
    assert number.content == text.content


async def _claim_in_flight(app, operator_key: str, path: str, body: dict[str, Any], key: str) -> None:
    outcome = await idempotency.claim(
        app.state.engine,
        await idempotency.operator_scope(app.state.engine, operator_key, "POST", path),
        key,
        idempotency.request_fingerprint(body, ""),
        app.state.clock.now(),
        lease=timedelta(seconds=app.state.settings.idempotency_lease_seconds),
        ttl=timedelta(hours=app.state.settings.idempotency_ttl_hours),
        key_hash=hash_key(operator_key),
    )
    assert isinstance(outcome, idempotency.Claim)


@pytest.mark.parametrize("endpoint", ["debits", "holds", "credit_grants"])
async def test_key_still_in_flight_is_409_idempotency_key_in_use_and_changes_nothing(
    client, app, operator_key, endpoint
):
    path, body = await SETUPS[endpoint](client)
    assert body is not None
    await _claim_in_flight(app, operator_key, path, body, "busy")
    state = await ledger_state(client)
    response = await _post(client, path, body, "busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_key_in_use"
    assert await ledger_state(client) == state


@pytest.mark.parametrize("endpoint", ["debits", "holds"])
async def test_in_flight_claim_is_freed_when_its_lease_expires(client, app, operator_key, clock, endpoint):
    path, body = await SETUPS[endpoint](client)
    assert body is not None
    await _claim_in_flight(app, operator_key, path, body, "crashed")
    clock.advance(seconds=59)
    assert (await _post(client, path, body, "crashed")).status_code == 409
    clock.advance(seconds=2)
    response = await _post(client, path, body, "crashed")
    assert response.status_code == 201, response.text
    replay = await _post(client, path, body, "crashed")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == response.content


async def test_insufficient_funds_is_not_stored_so_a_retry_after_a_grant_succeeds(client):
    customer = (await make_customer(client))["id"]
    body = {"customer": customer, "amount": "5.00"}
    refused = await _post(client, "/v1/debits", body, "topup-then-retry")
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "insufficient_funds"
    again = await _post(client, "/v1/debits", body, "topup-then-retry")
    assert again.status_code == 402
    assert "Idempotent-Replayed" not in again.headers

    await grant(client, customer, "5.00")
    response = await _post(client, "/v1/debits", body, "topup-then-retry")
    assert response.status_code == 201, response.text
    assert "Idempotent-Replayed" not in response.headers
    assert (await wallet(client, customer))["posted"] == "0.00"


async def test_hold_refused_for_funds_is_not_stored(client):
    customer = (await make_customer(client))["id"]
    body = {"customer": customer, "amount": "5.00"}
    assert (await _post(client, "/v1/holds", body, "h")).status_code == 402
    await grant(client, customer, "5.00")
    response = await _post(client, "/v1/holds", body, "h")
    assert response.status_code == 201, response.text
    assert (await wallet(client, customer))["held"] == "5.00"


async def test_a_refused_request_with_a_key_frees_it_for_a_different_body(client):
    customer = (await make_customer(client))["id"]
    refused = await _post(client, "/v1/credit_grants", {"customer": customer, "amount": "0"}, "fix-me")
    assert refused.status_code == 422
    fixed = {"customer": customer, "amount": "3.00", "category": "paid"}
    response = await _post(client, "/v1/credit_grants", fixed, "fix-me")
    assert response.status_code == 201, response.text


async def test_conflict_is_not_stored(client):
    await make_customer(client, external_id="taken")
    body = {"external_id": "taken"}
    first = await _post(client, "/v1/customers", body, "dup")
    assert first.status_code == 409
    assert first.json()["error"]["code"] == "customer_exists"
    second = await _post(client, "/v1/customers", body, "dup")
    assert second.status_code == 409
    assert "Idempotent-Replayed" not in second.headers


async def test_same_key_on_a_different_path_is_independent(client):
    customer = await _customer_with(client, "10.00")
    debit_response = await _post(client, "/v1/debits", {"customer": customer, "amount": "1.00"}, "shared")
    hold_response = await _post(client, "/v1/holds", {"customer": customer, "amount": "1.00"}, "shared")
    assert debit_response.status_code == 201, debit_response.text
    assert hold_response.status_code == 201, hold_response.text
    assert "Idempotent-Replayed" not in hold_response.headers
    balance = await wallet(client, customer)
    assert (balance["posted"], balance["held"], balance["available"]) == ("9.00", "1.00", "8.00")


async def test_same_key_on_two_holds_capture_paths_is_independent(client):
    first, second = await _active_hold(client), await _active_hold(client)
    one = await _post(client, f"/v1/holds/{first}/capture", {"amount": "1.00"}, "cap")
    two = await _post(client, f"/v1/holds/{second}/capture", {"amount": "1.00"}, "cap")
    assert one.status_code == two.status_code == 200
    assert "Idempotent-Replayed" not in two.headers
    assert one.json()["hold"]["id"] == first and two.json()["hold"]["id"] == second


async def _second_client(app) -> httpx.AsyncClient:
    async with app.state.engine.begin() as conn:
        _, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "second")
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
        headers={"Authorization": f"Bearer {secret}"},
    )


@pytest.mark.parametrize(("endpoint", "field", "expected"), [("debits", "posted", "5.00"), ("holds", "held", "6.00")])
async def test_same_key_from_another_operator_key_is_independent(client, app, endpoint, field, expected):
    path, body = await SETUPS[endpoint](client)
    assert body is not None
    mine = await _post(client, path, body, "same-key")
    async with await _second_client(app) as other:
        theirs = await _post(other, path, body, "same-key")
    assert mine.status_code == theirs.status_code == 201, theirs.text
    assert "Idempotent-Replayed" not in theirs.headers
    assert mine.json()["id"] != theirs.json()["id"]
    assert (await wallet(client, body["customer"]))[field] == expected


async def test_key_is_kept_for_24_hours(client, clock):
    customer = await _customer_with(client, "10.00")
    body = {"customer": customer, "amount": "1.00"}
    first = await _post(client, "/v1/debits", body, "day")
    clock.advance(hours=23, minutes=59)
    replay = await _post(client, "/v1/debits", body, "day")
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    reused = await _post(client, "/v1/debits", {**body, "amount": "2.00"}, "day")
    assert reused.status_code == 409
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    assert (await wallet(client, customer))["posted"] == "9.00"


async def test_key_expires_after_24_hours(client, clock):
    customer = await _customer_with(client, "10.00")
    body = {"customer": customer, "amount": "1.00"}
    assert (await _post(client, "/v1/debits", body, "day")).status_code == 201
    clock.advance(hours=24, seconds=1)
    response = await _post(client, "/v1/debits", {**body, "amount": "2.00"}, "day")
    assert response.status_code == 201, response.text
    assert "Idempotent-Replayed" not in response.headers
    assert (await wallet(client, customer))["posted"] == "7.00"


async def test_post_without_a_key_is_not_deduplicated(client):
    customer = await _customer_with(client, "10.00")
    for _ in range(3):
        assert (await debit(client, customer, "1.00")).status_code == 201
    assert (await wallet(client, customer))["posted"] == "7.00"


@pytest.mark.parametrize("key", ["", "x" * 256])
async def test_invalid_idempotency_key_is_422_and_changes_nothing(client, key):
    customer = await _customer_with(client, "10.00")
    state = await ledger_state(client)
    response = await _post(client, "/v1/debits", {"customer": customer, "amount": "1.00"}, key)
    assert response.status_code == 422
    assert response.json()["error"]["param"] == "Idempotency-Key"
    assert await ledger_state(client) == state


async def test_longest_allowed_idempotency_key_works(client):
    customer = await _customer_with(client, "10.00")
    body = {"customer": customer, "amount": "1.00"}
    key = "k" * 255
    assert (await _post(client, "/v1/debits", body, key)).status_code == 201
    assert (await _post(client, "/v1/debits", body, key)).headers["Idempotent-Replayed"] == "true"
    assert (await wallet(client, customer))["posted"] == "9.00"


async def test_idempotency_key_is_ignored_on_get(client):
    customer = await make_customer(client)
    response = await client.get(f"/v1/customers/{customer['id']}", headers={"Idempotency-Key": "g"})
    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response.headers


SPELLINGS = ["Bearer {k}", "bearer {k}", "BEARER {k}", "Bearer  {k}"]


@pytest.mark.parametrize("path", ["/v1/debits", "/v1/credit_grants"])
async def test_d5_idempotency_is_scoped_by_the_key_not_the_spelling_of_its_header(app, client, operator_key, path):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00")
    before = len(await transactions(client))
    body = {"customer": customer, "amount": "1.00", **({"category": "paid"} if "grants" in path else {})}
    answers = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        for spelling in SPELLINGS:
            headers = {"Authorization": spelling.format(k=operator_key), "Idempotency-Key": "same"}
            answers.append(await anon.post(path, json=body, headers=headers))
    assert [a.status_code for a in answers] == [201] * 4, [a.text for a in answers]
    assert [a.headers.get("Idempotent-Replayed") for a in answers] == [None, "true", "true", "true"]
    assert {a.json()["id"] for a in answers} == {answers[0].json()["id"]}
    assert len(await transactions(client)) == before + 1
