"""POST /v1/authorize: verify the key, count the rate limit, check budget and balance, place a hold;
200 either way, with a reason and nothing written when refused."""

from __future__ import annotations

import asyncio

from tests.factories import (
    balance,
    customer_id,
    expect_error,
    grant,
    make_api_key,
    make_budget,
    ok,
    wallet,
)


async def _authorize(client, **body):
    return await client.post("/v1/authorize", json=body)


async def _funded(client, amount: str = "10.00") -> str:
    customer = await customer_id(client)
    await grant(client, customer, amount)
    return customer


async def test_an_allowed_authorization_places_a_hold_on_the_keys_behalf(client, clock):
    customer = await _funded(client)
    key = await make_api_key(client, customer)

    answer = ok(await _authorize(client, api_key=key["key"], amount="2.50", expires_in=120))

    assert answer["allowed"] is True and answer["reason"] is None
    assert (answer["customer"], answer["api_key"]) == (customer, key["id"])
    assert answer["wallet"] == {"currency": "USD", "available": "7.50"}
    assert answer["budget"] is None
    held = ok(await client.get(f"/v1/holds/{answer['hold_id']}"))
    assert (held["status"], held["amount"], held["api_key"]) == ("active", "2.50", key["id"])
    assert answer["expires_at"] == held["expires_at"]


async def test_capture_settles_the_real_cost_and_releases_the_rest(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer)
    answer = ok(await _authorize(client, api_key=key["key"], amount="2.00"))

    captured = ok(await client.post(f"/v1/holds/{answer['hold_id']}/capture", json={"amount": "0.013"}))

    assert captured["amount"] == "0.013"
    assert balance(await wallet(client, customer)) == ("9.987", "0.00", "9.987")


async def test_authorize_by_customer_without_a_key(client):
    customer = await _funded(client)

    answer = ok(await _authorize(client, customer=customer, amount="1"))

    assert answer["allowed"] is True and answer["api_key"] is None


async def test_an_unknown_or_revoked_key_is_refused_as_invalid_key(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer)
    ok(await client.post(f"/v1/customers/{customer}/api_keys/{key['id']}/revoke"))

    for secret in (key["key"], "cf_ck_not-a-key"):
        answer = ok(await _authorize(client, api_key=secret, amount="1"))
        assert (answer["allowed"], answer["reason"], answer["hold_id"]) == (False, "invalid_key", None)
    assert balance(await wallet(client, customer)) == ("10.00", "0.00", "10.00")


async def test_short_balance_is_refused_as_insufficient_funds_and_writes_nothing(client):
    customer = await _funded(client, "1.00")
    key = await make_api_key(client, customer)

    answer = ok(await _authorize(client, api_key=key["key"], amount="1.01"))

    assert (answer["allowed"], answer["reason"]) == (False, "insufficient_funds")
    assert answer["wallet"] == {"currency": "USD", "available": "1.00"}
    assert ok(await client.get("/v1/holds", params={"customer": customer}))["data"] == []


async def test_a_blocking_budget_is_refused_as_budget_exceeded_and_reported(client):
    customer = await _funded(client, "100")
    key = await make_api_key(client, customer)
    budget = await make_budget(client, api_key=key["id"], amount="5")
    first = ok(await _authorize(client, api_key=key["key"], amount="3"))
    assert first["budget"] == {"id": budget["id"], "currency": "USD", "total": "5.00", "used": "3.00",
                               "remaining": "2.00"}

    refused = ok(await _authorize(client, api_key=key["key"], amount="2.01"))

    assert (refused["allowed"], refused["reason"]) == (False, "budget_exceeded")
    assert refused["budget"]["remaining"] == "2.00"
    assert len(ok(await client.get("/v1/holds", params={"customer": customer}))["data"]) == 1


async def test_over_the_rate_limit_is_refused_with_retry_after(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer, rate_limit={"requests": 2, "per": "minute"})
    for _ in range(2):
        assert ok(await _authorize(client, api_key=key["key"], amount="1"))["allowed"] is True

    response = await _authorize(client, api_key=key["key"], amount="1")

    answer = ok(response)
    assert (answer["allowed"], answer["reason"]) == (False, "rate_limited")
    assert int(response.headers["Retry-After"]) == answer["retry_after"] > 0
    assert balance(await wallet(client, customer)) == ("10.00", "2.00", "8.00")


async def test_a_retry_with_the_same_idempotency_key_places_one_hold(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer)
    headers = {"Idempotency-Key": "auth-1"}

    first = ok(await client.post("/v1/authorize", json={"api_key": key["key"], "amount": "4"}, headers=headers))
    again = ok(await client.post("/v1/authorize", json={"api_key": key["key"], "amount": "4"}, headers=headers))

    assert first["hold_id"] == again["hold_id"]
    assert balance(await wallet(client, customer)) == ("10.00", "4.00", "6.00")


async def test_concurrent_authorizations_never_reserve_more_than_the_balance(client):
    customer = await _funded(client, "10")
    key = await make_api_key(client, customer)

    answers = await asyncio.gather(*(_authorize(client, api_key=key["key"], amount="3") for _ in range(6)))

    allowed = [ok(a)["allowed"] for a in answers]
    assert allowed.count(True) == 3
    assert balance(await wallet(client, customer)) == ("10.00", "9.00", "1.00")


async def test_bad_input_is_a_4xx(client):
    customer = await _funded(client)
    key = await make_api_key(client, customer)
    for body in (
        {"amount": "1"},
        {"api_key": key["key"], "customer": customer, "amount": "1"},
        {"customer": customer, "amount": "0"},
        {"customer": customer, "amount": "1", "expires_in": 0},
    ):
        expect_error(await client.post("/v1/authorize", json=body), 422, "validation_error")
    expect_error(await _authorize(client, customer="nobody", amount="1"), 404, "not_found")
    expect_error(await _authorize(client, customer=customer, amount="1", currency="EUR"), 422, "wallet_not_found")
