"""Customer API keys through the API: create (secret shown once), list, revoke, verify, rate limits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from creditflow.apikeys.service import KEY_PREFIX
from tests.factories import customer_id, debit, expect_error, grant, ok

VERIFY = "/v1/api_keys/verify"


def _keys(customer: str) -> str:
    return f"/v1/customers/{customer}/api_keys"


async def make_key(client: httpx.AsyncClient, customer: str, name: str = "prod", **fields: Any) -> dict[str, Any]:
    return ok(await client.post(_keys(customer), json={"name": name, **fields}), 201)


async def verify(client: httpx.AsyncClient, key: str) -> httpx.Response:
    return await client.post(VERIFY, json={"key": key})


async def test_create_answers_the_key_once_with_its_settings(client, clock):
    customer = await customer_id(client)
    expires_at = (clock.now() + timedelta(days=30)).isoformat()

    created = await make_key(
        client, customer, name="backend", expires_at=expires_at, rate_limit={"requests": 10, "per": "second"}
    )

    assert created["object"] == "api_key" and created["id"].startswith("ak_")
    assert created["customer"] == customer
    assert created["name"] == "backend"
    assert created["key"].startswith(KEY_PREFIX)
    assert len(created["key"]) - len(KEY_PREFIX) >= 43  # 32 random bytes, url-safe base64
    assert created["prefix"] == created["key"][: len(KEY_PREFIX) + 4]
    assert created["status"] == "active"
    assert created["rate_limit"] == {"requests": 10, "per": "second"}
    assert created["expires_at"].startswith((clock.now() + timedelta(days=30)).date().isoformat())
    assert created["revoked_at"] is None


async def test_create_without_options_has_no_expiry_and_no_rate_limit(client):
    created = await make_key(client, await customer_id(client))
    assert created["expires_at"] is None and created["rate_limit"] is None


async def test_each_key_gets_a_different_secret(client):
    customer = await customer_id(client)
    assert (await make_key(client, customer))["key"] != (await make_key(client, customer))["key"]


async def test_customer_can_be_addressed_by_external_id(client):
    customer = await customer_id(client, external_id="acme")
    created = await make_key(client, "acme")
    assert created["customer"] == customer


async def test_list_never_shows_secrets(client):
    customer = await customer_id(client)
    created = await make_key(client, customer)

    response = await client.get(_keys(customer))

    listed = ok(response)["data"]
    assert [k["id"] for k in listed] == [created["id"]]
    assert "key" not in listed[0]
    assert created["key"] not in response.text
    assert listed[0]["prefix"] == created["prefix"]


async def test_list_pages_newest_first_and_only_the_customers_own_keys(client):
    customer, other = await customer_id(client), await customer_id(client)
    made = [(await make_key(client, customer, name=f"k{i}"))["id"] for i in range(5)]
    await make_key(client, other)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"starting_after": cursor} if cursor else {})}
        page = ok(await client.get(_keys(customer), params=params))
        seen += [k["id"] for k in page["data"]]
        if not page["has_more"]:
            break
        cursor = seen[-1]
    assert seen == list(reversed(made))


async def test_replayed_create_returns_the_same_key_with_the_secret_redacted(client):
    customer = await customer_id(client)
    body = {"name": "retry-me"}
    first = ok(await client.post(_keys(customer), json=body, headers={"Idempotency-Key": "create-1"}), 201)

    replay = await client.post(_keys(customer), json=body, headers={"Idempotency-Key": "create-1"})

    again = ok(replay, 201)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert again["id"] == first["id"]
    assert again["key"] == "[redacted]"
    assert first["key"] not in replay.text
    assert len(ok(await client.get(_keys(customer)))["data"]) == 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": "k", "expires_at": "2030-01-01T00:00:00"}, "expires_at"),
        ({"name": "k", "expires_at": "soon"}, "expires_at"),
        ({"name": "k", "rate_limit": {"requests": 0, "per": "second"}}, "rate_limit.requests"),
        ({"name": "k", "rate_limit": {"requests": 1.5, "per": "second"}}, "rate_limit.requests"),
        ({"name": "k", "rate_limit": {"requests": 10, "per": "hour"}}, "rate_limit.per"),
        ({"name": "k", "rate_limit": {"requests": 10}}, "rate_limit.per"),
        ({"name": "k", "scopes": ["all"]}, "scopes.0"),
    ],
)
async def test_invalid_create_is_422_naming_the_field_and_creates_nothing(client, body, param):
    customer = await customer_id(client)

    error = expect_error(await client.post(_keys(customer), json=body), 422, "validation_error")

    assert error["param"] == param
    assert ok(await client.get(_keys(customer)))["data"] == []


async def test_expiry_in_the_past_is_422(client, clock):
    customer = await customer_id(client)
    past = (clock.now() - timedelta(seconds=1)).isoformat()

    error = expect_error(await client.post(_keys(customer), json={"name": "k", "expires_at": past}), 422,
                         "invalid_request")

    assert error["param"] == "expires_at"


async def test_unknown_customer_is_404(client):
    expect_error(await client.post(_keys("nobody"), json={"name": "k"}), 404, "not_found")
    expect_error(await client.get(_keys("nobody")), 404, "not_found")
    expect_error(await client.post(f"{_keys('nobody')}/ak_x/revoke"), 404, "not_found")


async def test_revoke_marks_the_key_revoked(client, clock):
    customer = await customer_id(client)
    created = await make_key(client, customer)

    revoked = ok(await client.post(f"{_keys(customer)}/{created['id']}/revoke"))

    assert revoked["status"] == "revoked"
    assert revoked["revoked_at"] is not None
    assert "key" not in revoked
    assert ok(await client.get(_keys(customer)))["data"][0]["status"] == "revoked"


async def test_revoking_twice_is_409(client):
    customer = await customer_id(client)
    created = await make_key(client, customer)
    ok(await client.post(f"{_keys(customer)}/{created['id']}/revoke"))

    expect_error(await client.post(f"{_keys(customer)}/{created['id']}/revoke"), 409, "conflict")


async def test_revoking_another_customers_key_is_404_and_leaves_it_valid(client):
    owner, stranger = await customer_id(client), await customer_id(client)
    created = await make_key(client, owner)

    expect_error(await client.post(f"{_keys(stranger)}/{created['id']}/revoke"), 404, "not_found")

    assert ok(await verify(client, created["key"]))["valid"] is True


async def test_verify_answers_the_customer_key_and_available_balance(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    assert (await debit(client, customer, "2.50")).status_code == 201
    created = await make_key(client, customer, name="backend")

    answer = ok(await verify(client, created["key"]))

    assert answer == {
        "valid": True,
        "customer": customer,
        "api_key": {"id": created["id"], "name": "backend"},
        "budget": None,
        "wallet": {"currency": "USD", "available": "7.50"},
    }


async def test_verify_uses_the_wallet_in_the_customers_own_currency(client):
    customer = await customer_id(client, currency="EUR")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "USD"}), 201)
    await grant(client, customer, "3.00", currency="USD")
    await grant(client, customer, "5.00")
    created = await make_key(client, customer)

    assert ok(await verify(client, created["key"]))["wallet"] == {"currency": "EUR", "available": "5.00"}


async def test_verify_applies_lazy_expiry_to_the_wallet(client, clock):
    customer = await customer_id(client)
    await grant(client, customer, "4.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    await grant(client, customer, "1.00")
    created = await make_key(client, customer)
    assert ok(await verify(client, created["key"]))["wallet"]["available"] == "5.00"

    clock.advance(hours=2)

    assert ok(await verify(client, created["key"]))["wallet"]["available"] == "1.00"


@pytest.mark.parametrize("key", ["cf_ck_not-a-real-key", "cf_sk_operator-style", "x"])
async def test_verify_of_an_unknown_key_is_invalid(client, key):
    assert ok(await verify(client, key)) == {"valid": False, "reason": "invalid_key"}


async def test_verify_of_an_operator_key_is_invalid(client, operator_key):
    assert ok(await verify(client, operator_key)) == {"valid": False, "reason": "invalid_key"}


async def test_verify_of_a_revoked_key_is_invalid(client):
    customer = await customer_id(client)
    created = await make_key(client, customer)
    assert ok(await verify(client, created["key"]))["valid"] is True

    ok(await client.post(f"{_keys(customer)}/{created['id']}/revoke"))

    assert ok(await verify(client, created["key"])) == {"valid": False, "reason": "invalid_key"}


async def test_verify_of_an_expired_key_is_invalid_and_lists_as_expired(client, clock):
    customer = await customer_id(client)
    created = await make_key(client, customer, expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    clock.advance(minutes=59, seconds=59)
    assert ok(await verify(client, created["key"]))["valid"] is True

    clock.advance(seconds=1)

    assert ok(await verify(client, created["key"])) == {"valid": False, "reason": "invalid_key"}
    assert ok(await client.get(_keys(customer)))["data"][0]["status"] == "expired"


async def test_verify_without_a_key_is_422(client):
    expect_error(await client.post(VERIFY, json={}), 422, "validation_error")
    expect_error(await client.post(VERIFY, json={"key": ""}), 422, "validation_error")


async def test_verify_needs_an_operator_key(app, client):
    created = await make_key(client, await customer_id(client))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        expect_error(await anon.post(VERIFY, json={"key": created["key"]}), 401, "unauthenticated")
        # A customer key is not an operator key.
        headers = {"Authorization": f"Bearer {created['key']}"}
        expect_error(await anon.post(VERIFY, json={"key": created["key"]}, headers=headers), 401, "unauthenticated")


async def test_verify_over_the_rate_limit_is_429_with_retry_after(client):
    created = await make_key(client, await customer_id(client), rate_limit={"requests": 3, "per": "second"})
    for _ in range(3):
        assert ok(await verify(client, created["key"]))["valid"] is True

    refused = await verify(client, created["key"])

    error = expect_error(refused, 429, "rate_limited")
    retry_after = int(refused.headers["Retry-After"])
    assert retry_after >= 1
    assert error["details"] == {"retry_after": retry_after}
    assert created["id"] in error["message"]


async def test_rate_limited_key_is_let_through_again_after_retry_after(client, clock):
    created = await make_key(client, await customer_id(client), rate_limit={"requests": 2, "per": "minute"})
    for _ in range(2):
        ok(await verify(client, created["key"]))
    refused = await verify(client, created["key"])
    expect_error(refused, 429, "rate_limited")
    retry_after = int(refused.headers["Retry-After"])

    clock.advance(seconds=retry_after - 1)
    expect_error(await verify(client, created["key"]), 429, "rate_limited")
    clock.advance(seconds=1)

    assert ok(await verify(client, created["key"]))["valid"] is True


async def test_per_minute_limit_holds_across_the_whole_minute(client, clock):
    created = await make_key(client, await customer_id(client), rate_limit={"requests": 5, "per": "minute"})
    allowed = 0
    for _ in range(10):
        if (await verify(client, created["key"])).status_code == 200:
            allowed += 1
        clock.advance(seconds=5)  # ten requests spread over 50 seconds of one window
    assert allowed == 5


async def test_each_key_has_its_own_rate_limit(client):
    customer = await customer_id(client)
    limited = await make_key(client, customer, rate_limit={"requests": 1, "per": "second"})
    other = await make_key(client, customer, rate_limit={"requests": 1, "per": "second"})
    ok(await verify(client, limited["key"]))
    expect_error(await verify(client, limited["key"]), 429, "rate_limited")

    assert ok(await verify(client, other["key"]))["valid"] is True


async def test_key_without_a_rate_limit_is_never_limited(client):
    created = await make_key(client, await customer_id(client))
    for _ in range(50):
        assert ok(await verify(client, created["key"]))["valid"] is True

