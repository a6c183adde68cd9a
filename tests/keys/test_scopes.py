"""Operator key scopes: a "usage" key may only verify keys, capture or void holds and send or price events."""

from __future__ import annotations

import httpx
import pytest

from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest
from creditflow.keys.service import USAGE_ROUTES, create_key
from tests.factories import customer_id, debit, expect_error, grant, hold, ok, usage_client, wallet
from tests.test_cli import cli_env, run_cli, status_with_key


async def _funded(client: httpx.AsyncClient, amount: str = "10.00") -> str:
    customer = await customer_id(client)
    await grant(client, customer, amount)
    return customer


async def test_usage_key_verifies_customer_api_keys(app, client):
    customer = await _funded(client)
    created = ok(await client.post(f"/v1/customers/{customer}/api_keys", json={"name": "k"}), 201)
    async with await usage_client(app) as gateway:
        answer = ok(await gateway.post("/v1/api_keys/verify", json={"key": created["key"]}))
    assert answer["valid"] is True and answer["wallet"]["available"] == "10.00"


async def test_usage_key_captures_a_hold(app, client):
    customer = await _funded(client)
    placed = ok(await hold(client, customer, "3.00"), 201)
    async with await usage_client(app) as gateway:
        captured = ok(await gateway.post(f"/v1/holds/{placed['id']}/capture", json={"amount": "1.25"}))
    assert captured["hold"]["status"] == "captured"
    assert (await wallet(client, customer))["available"] == "8.75"


async def test_usage_key_voids_a_hold(app, client):
    customer = await _funded(client)
    placed = ok(await hold(client, customer, "3.00"), 201)
    async with await usage_client(app) as gateway:
        voided = ok(await gateway.post(f"/v1/holds/{placed['id']}/void"))
    assert voided["status"] == "voided"
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_usage_key_authorizes_with_a_customer_api_key(app, client):
    customer = await _funded(client)
    created = ok(await client.post(f"/v1/customers/{customer}/api_keys", json={"name": "k"}), 201)
    async with await usage_client(app) as gateway:
        answer = ok(await gateway.post("/v1/authorize", json={"api_key": created["key"], "amount": "2.00"}))
    assert answer["allowed"] is True
    assert (await wallet(client, customer))["available"] == "8.00"


async def test_usage_key_sends_events(app, client):
    customer = await _funded(client)
    ok(await client.post("/v1/metrics", json={"code": "calls", "name": "Calls", "aggregation": "count"}), 201)
    price = {"metric": "calls", "currency": "USD", "model": "standard", "properties": {"amount": "0.50"}}
    ok(await client.post("/v1/prices", json=price), 201)
    async with await usage_client(app) as gateway:
        single = {"customer": customer, "metric": "calls", "transaction_id": "t1"}
        ok(await gateway.post("/v1/events", json=single), 201)
        batch = {"events": [{"customer": customer, "metric": "calls", "transaction_id": "t2"}]}
        assert ok(await gateway.post("/v1/events/batch", json=batch))["accepted"] == 1
    assert (await wallet(client, customer))["available"] == "9.00"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/customers"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/customers/{customer}"),
        ("GET", "/v1/customers/{customer}/wallets"),
        ("POST", "/v1/customers/{customer}/api_keys"),
        ("GET", "/v1/customers/{customer}/api_keys"),
        ("POST", "/v1/credit_grants"),
        ("POST", "/v1/holds"),
        ("GET", "/v1/holds"),
        ("GET", "/v1/transactions"),
        ("POST", "/v1/metrics"),
        ("POST", "/v1/budgets"),
        ("GET", "/v1/alerts"),
    ],
)
async def test_usage_key_is_refused_everything_else_with_403(app, client, method, path):
    customer = await _funded(client)
    async with await usage_client(app) as gateway:
        body = {"customer": customer, "amount": "1.00", "external_id": "x", "name": "x", "category": "paid"}
        response = await gateway.request(
            method, path.format(customer=customer), json=body if method == "POST" else None
        )
    error = expect_error(response, 403, "forbidden")
    assert "'usage' scope" in error["message"] and path.split("{")[0] in error["message"]


async def test_usage_key_is_refused_debits_and_nothing_is_spent(app, client):
    customer = await _funded(client)
    async with await usage_client(app) as gateway:
        error = expect_error(await debit(gateway, customer, "1.00"), 403, "forbidden")
    assert "'usage' scope" in error["message"]
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_usage_key_is_refused_debits_sent_with_an_idempotency_key_and_the_key_stays_free(app, client):
    customer = await _funded(client)
    async with await usage_client(app) as gateway:
        for _ in range(2):  # refused twice: the claim was released, not left in flight
            response = await gateway.post(
                "/v1/debits", json={"customer": customer, "amount": "1.00"}, headers={"Idempotency-Key": "d-1"}
            )
            expect_error(response, 403, "forbidden")
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_usage_key_is_refused_debits_off_the_fast_path(app, client):
    customer = await _funded(client)

    async def chunks():  # no Content-Length: the fast path passes the request on to the routed endpoint
        yield f'{{"customer": "{customer}", "amount": "1.00"}}'.encode()

    async with await usage_client(app) as gateway:
        response = await gateway.post("/v1/debits", content=chunks(), headers={"Content-Type": "application/json"})
    expect_error(response, 403, "forbidden")
    assert (await wallet(client, customer))["available"] == "10.00"


async def test_all_scope_key_is_unaffected(client):
    customer = await _funded(client)
    ok(await client.get("/v1/customers"))
    ok(await debit(client, customer, "1.00"), 201)
    placed = ok(await hold(client, customer, "1.00"), 201)
    ok(await client.post(f"/v1/holds/{placed['id']}/void"))
    assert (await wallet(client, customer))["available"] == "9.00"


def test_usage_routes_are_route_templates_of_post_requests():
    assert all(method == "POST" and path.startswith("/v1/") for method, path in USAGE_ROUTES)
    assert ("POST", "/v1/holds/{hold_id}/capture") in USAGE_ROUTES


async def test_usage_routes_name_existing_routes(app):
    routes = {(method.upper(), path) for path, item in app.openapi()["paths"].items() for method in item}
    assert routes >= USAGE_ROUTES


async def test_unknown_scope_is_refused(app):
    async with app.state.engine.begin() as conn:
        with pytest.raises(InvalidRequest, match="unknown scope"):
            await create_key(Tx(conn=conn, now=app.state.clock.now(), actor="test"), "k", "admin")


def test_cli_keys_create_with_usage_scope_makes_a_usage_key(tmp_path, database_url):
    env = cli_env(database_url=database_url)

    created = run_cli("keys", "create", "--name", "gateway", "--scope", "usage", cwd=tmp_path, env=env)

    assert created.returncode == 0, created.stderr
    assert "scope usage" in created.stdout
    secret = created.stdout.splitlines()[-1]
    assert status_with_key(database_url, secret) == 403  # GET /v1/customers
    listed = run_cli("keys", "list", cwd=tmp_path, env=env)
    assert "gateway\tscope usage" in listed.stdout


def test_cli_keys_create_defaults_to_the_all_scope(tmp_path, database_url):
    env = cli_env(database_url=database_url)

    created = run_cli("keys", "create", "--name", "admin", cwd=tmp_path, env=env)

    assert "scope all" in created.stdout
    assert status_with_key(database_url, created.stdout.splitlines()[-1]) == 200
    assert "admin\tscope all" in run_cli("keys", "list", cwd=tmp_path, env=env).stdout


def test_cli_keys_create_refuses_an_unknown_scope(tmp_path, database_url):
    env = cli_env(database_url=database_url)

    result = run_cli("keys", "create", "--name", "x", "--scope", "admin", cwd=tmp_path, env=env)

    assert result.returncode != 0
    assert "cf_sk_" not in result.stdout
    assert "admin" not in run_cli("keys", "list", cwd=tmp_path, env=env).stdout
