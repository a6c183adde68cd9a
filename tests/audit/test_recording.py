"""audit/recording.py and rules.py: operator changes through the API are logged in the request's transaction,
with who, what, from where and the changed fields; the spend path, refusals and replays are not."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import customer_id, debit, expect_error, grant, ok


async def _events(client, **params: str) -> list[dict]:
    """The events after the test's own operator key was created (that creation is logged too)."""
    found = ok(await client.get("/v1/audit_events", params=params))["data"]
    return [event for event in found if event["resource_type"] != "operator_key"]


async def test_a_grant_and_its_void_are_logged_with_actor_ip_and_changes(client, clock) -> None:
    clock.set(datetime(2026, 4, 1, 9, tzinfo=UTC))
    customer = await customer_id(client, currency="USD")
    created = await grant(client, customer, "25")
    voided = ok(await client.post(f"/v1/credit_grants/{created['id']}/void", headers={"Idempotency-Key": "v-1"}))
    void_event, grant_event, customer_event = await _events(client)
    assert customer_event["action"] == "customer.create" and customer_event["resource_id"] == customer
    assert grant_event["action"] == "credit_grant.create"
    assert (grant_event["resource_type"], grant_event["resource_id"]) == ("credit_grant", created["id"])
    assert grant_event["changes"]["amount"] == {"before": None, "after": "25.00"}
    assert grant_event["actor"]["type"] == "operator_key" and grant_event["actor"]["id"].startswith("key_")
    assert grant_event["ip"] == "127.0.0.1" and grant_event["created_at"] == "2026-04-01T09:00:00Z"
    assert void_event["action"] == "credit_grant.void" and void_event["request_id"] == "v-1"
    assert void_event["changes"]["status"] == {"before": "active", "after": voided["status"]}
    assert "amount" not in void_event["changes"]


async def test_a_credit_limit_change_shows_only_what_changed(client) -> None:
    customer = await customer_id(client, currency="USD")
    ok(await client.patch(f"/v1/customers/{customer}/wallets/usd", json={"credit_limit": "50"}))
    (event, _) = await _events(client)
    assert (event["action"], event["resource_type"]) == ("wallet.update", "wallet")
    assert event["resource_id"].startswith("wal_")
    assert event["changes"] == {
        "credit_limit": {"before": "0.00", "after": "50.00"}, "available": {"before": "0.00", "after": "50.00"},
    }


async def test_secrets_are_redacted_and_a_deletion_keeps_the_last_state(client) -> None:
    endpoint = ok(await client.post(
        "/v1/webhook_endpoints", json={"url": "https://example.com/h", "events": ["customer.created"]}), 201)
    ok(await client.delete(f"/v1/webhook_endpoints/{endpoint['id']}"))
    deleted, created = await _events(client)
    assert created["changes"]["secret"] == {"before": None, "after": "[redacted]"}
    assert deleted["action"] == "webhook_endpoint.delete"
    assert deleted["changes"]["url"] == {"before": "https://example.com/h", "after": None}


async def test_spend_refusals_and_replays_write_nothing(client) -> None:
    customer = await customer_id(client, currency="USD")
    await grant(client, customer, "10")
    assert (await debit(client, customer, "1")).status_code == 201
    expect_error(await client.patch(f"/v1/customers/{customer}/wallets/usd", json={"credit_limit": "-1"}), 422,
                 "validation_error")
    metric = {"code": "tokens", "name": "Tokens", "aggregation": "sum", "field": "n"}
    for _ in range(2):
        ok(await client.post("/v1/metrics", json=metric, headers={"Idempotency-Key": "m-1"}), 201)
    assert [e["action"] for e in await _events(client)] == ["metric.create", "credit_grant.create", "customer.create"]


async def test_a_path_currency_that_is_no_unit_is_a_4xx_never_a_500(client):
    # Found by tests/fuzz: reading the "before" of an audited wallet route raised MoneyError (a 500).
    customer = await customer_id(client)
    for method, path, body in [
        ("PATCH", f"/v1/customers/{customer}/wallets/1$", {"credit_limit": "1"}),
        ("PUT", f"/v1/customers/{customer}/wallets/1$/low_balance", {"threshold": "1"}),
        ("DELETE", f"/v1/customers/{customer}/wallets/1$/auto_topup", None),
    ]:
        response = await client.request(method, path, json=body)
        assert 400 <= response.status_code < 500, (method, path, response.text)
