"""Operator keys through API authentication: 256-bit secrets, stored as SHA-256, revocable."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from sqlalchemy import select

from creditflow.db.tables import operator_keys
from creditflow.db.tx import Tx
from creditflow.keys.service import KEY_PREFIX, create_key, revoke_key
from tests.factories import grant, make_customer, wallet


def _client(app, secret: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"Bearer {secret}"} if secret is not None else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test", headers=headers)


async def _new_key(app, name: str = "another") -> tuple[str, str]:
    async with app.state.engine.begin() as conn:
        key, secret = await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), name)
    return key.id, secret


async def _revoke(app, key_id: str) -> None:
    async with app.state.engine.begin() as conn:
        await revoke_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), key_id)


async def _key_id_of(app, secret: str) -> str:
    digest = hashlib.sha256(secret.encode()).hexdigest()
    async with app.state.engine.connect() as conn:
        return (await conn.execute(select(operator_keys.c.id).where(operator_keys.c.key_hash == digest))).scalar_one()


def _assert_401(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthenticated"


async def test_new_key_authenticates_api_requests(app):
    _, secret = await _new_key(app)
    async with _client(app, secret) as http:
        assert (await http.get("/v1/customers")).status_code == 200
        assert (await http.post("/v1/customers", json={"external_id": "a"})).status_code == 201


async def test_secret_is_256_bit_random_and_stored_only_as_its_sha256(app):
    key_id, secret = await _new_key(app)
    _, other = await _new_key(app)
    assert secret.startswith(KEY_PREFIX) and secret != other
    assert len(secret) - len(KEY_PREFIX) >= 43  # 32 random bytes, url-safe base64
    async with app.state.engine.connect() as conn:
        row = (await conn.execute(select(operator_keys).where(operator_keys.c.id == key_id))).one()
    assert row.key_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in [str(value) for value in row]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer"}, {"Authorization": "Bearer "}, {"Authorization": "Bearer cf_sk_wrong"},
     {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "cf_sk_nobearer"}],
)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/v1/customers", None), ("POST", "/v1/customers", {"external_id": "x"}),
     ("POST", "/v1/debits", {"customer": "c", "amount": "1"}), ("POST", "/v1/holds", {"customer": "c", "amount": "1"}),
     ("GET", "/v1/transactions", None)],
)
async def test_missing_or_invalid_key_is_401(app, operator_key, headers, method, path, body):
    async with _client(app, None) as http:
        _assert_401(await http.request(method, path, json=body, headers=headers))


async def test_key_hash_sent_as_the_secret_is_401(app, operator_key):
    async with _client(app, hashlib.sha256(operator_key.encode()).hexdigest()) as http:
        _assert_401(await http.get("/v1/customers"))


async def test_401_changes_nothing(app, client):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00")
    async with _client(app, "cf_sk_wrong") as http:
        _assert_401(await http.post("/v1/debits", json={"customer": customer, "amount": "1.00"}))
        _assert_401(await http.post("/v1/holds", json={"customer": customer, "amount": "1.00"}))
        body = {"customer": customer, "amount": "1", "category": "paid"}
        _assert_401(await http.post("/v1/credit_grants", json=body))
    balance = await wallet(client, customer)
    assert (balance["posted"], balance["held"]) == ("10.00", "0.00")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/v1/customers", None), ("POST", "/v1/customers", {"external_id": "late"}),
     ("POST", "/v1/debits", {"customer": "revoked-test", "amount": "1.00"}),
     ("POST", "/v1/holds", {"customer": "revoked-test", "amount": "1.00"})],
)
async def test_revoked_key_is_401(app, client, method, path, body):
    customer = (await make_customer(client, external_id="revoked-test"))["id"]
    await grant(client, customer, "10.00")
    key_id, secret = await _new_key(app)
    async with _client(app, secret) as http:
        assert (await http.get("/v1/customers")).status_code == 200
        await _revoke(app, key_id)
        _assert_401(await http.request(method, path, json=body))
    assert (await wallet(client, customer))["posted"] == "10.00"


@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds"])
async def test_revoked_key_cannot_replay_its_stored_responses(app, client, path):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00")
    key_id, secret = await _new_key(app)
    body = {"customer": customer, "amount": "1.00"}
    async with _client(app, secret) as http:
        assert (await http.post(path, json=body, headers={"Idempotency-Key": "k"})).status_code == 201
        await _revoke(app, key_id)
        _assert_401(await http.post(path, json=body, headers={"Idempotency-Key": "k"}))


async def test_revoking_one_key_leaves_the_others_working(app, client):
    key_id, secret = await _new_key(app)
    await _revoke(app, key_id)
    assert (await client.get("/v1/customers")).status_code == 200
    async with _client(app, secret) as http:
        _assert_401(await http.get("/v1/customers"))


@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/credit_grants"])
async def test_operations_record_the_operator_key_as_actor(app, client, operator_key, path):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00")
    _, secret = await _new_key(app, "second")
    body = {"customer": customer, "amount": "1.00", **({"category": "paid"} if path == "/v1/credit_grants" else {})}
    async with _client(app, secret) as http:
        assert (await http.post(path, json=body)).status_code == 201
    history = (await client.get("/v1/transactions", params={"customer": customer})).json()["data"]
    newest, first_grant = history[0], history[-1]
    assert newest["actor"] == f"key:{await _key_id_of(app, secret)}"
    assert first_grant["actor"] == f"key:{await _key_id_of(app, operator_key)}"
