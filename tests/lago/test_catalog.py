"""lago/catalog.py and endpoints.py through /api/v1: customers, metrics, plans' charge models, subscriptions."""

from __future__ import annotations

import pytest

from tests.factories import ok
from tests.lago.support import lago_ok, set_up


async def test_a_customer_is_erased_only_without_balance_holds_or_open_invoices(client) -> None:
    wallet_id = await set_up(client, granted="1.0")
    await lago_ok(client.post("/api/v1/customers", json={"customer": {
        "external_id": "acme", "name": "Acme", "email": "a@acme.test", "metadata": [{"key": "k", "value": "v"}]}}))
    refused = await lago_ok(client.delete("/api/v1/customers/acme"), 422)
    assert refused["error_details"] == {"customer": ["customer_not_erasable"]}
    await lago_ok(client.post("/api/v1/events", json={"event": {
        "transaction_id": "all", "external_subscription_id": "sub-acme", "code": "tokens",
        "properties": {"tokens": 100}}}))
    assert (await lago_ok(client.get(f"/api/v1/wallets/{wallet_id}")))["wallet"]["balance_cents"] == 0
    erased = (await lago_ok(client.delete("/api/v1/customers/acme")))["customer"]
    assert (erased["external_id"], erased["name"], erased["email"], erased["metadata"]) == ("acme", None, None, [])


async def test_aggregations_lago_has_and_creditflow_lacks_are_a_clear_422(client) -> None:
    refused = await lago_ok(client.post("/api/v1/billable_metrics", json={"billable_metric": {
        "name": "Seats", "code": "seats", "aggregation_type": "weighted_sum_agg", "field_name": "seats"}}), 422)
    assert refused["code"] == "validation_errors"
    assert refused["error_details"] == {"aggregation_type": ["value_is_invalid"]}


@pytest.mark.parametrize(("model", "properties", "tokens", "cents"), [
    ("package", {"amount": "5", "package_size": 100, "free_units": 10}, 150, 1000),
    ("volume", {"volume_ranges": [{"from_value": 0, "to_value": 100, "per_unit_amount": "0.02", "flat_amount": "0"},
                                  {"from_value": 101, "to_value": None, "per_unit_amount": "0.01",
                                   "flat_amount": "1"}]}, 150, 250),
    ("percentage", {"rate": "2.5", "fixed_amount": "0.1", "per_transaction_max_amount": "3"}, 200, 300),
])
async def test_lago_charge_models_price_usage(client, model, properties, tokens, cents) -> None:
    wallet_id = await set_up(client, granted="100", charge={"charge_model": model, "properties": properties})
    plan = (await lago_ok(client.get("/api/v1/plans/pro")))["plan"]
    assert [(c["charge_model"], c["billable_metric_code"]) for c in plan["charges"]] == [(model, "tokens")]
    await lago_ok(client.post("/api/v1/events", json={"event": {
        "transaction_id": "t", "external_subscription_id": "sub-acme", "code": "tokens",
        "properties": {"tokens": tokens}}}))
    assert (await lago_ok(client.get(f"/api/v1/wallets/{wallet_id}")))["wallet"]["balance_cents"] == 10_000 - cents


async def test_a_subscription_whose_fee_the_balance_cannot_pay_is_created_past_due(client) -> None:
    await set_up(client, granted="0", plan_cents=1000)
    found = (await lago_ok(client.get("/api/v1/subscriptions/sub-acme")))["subscription"]
    assert found["status"] == "active"
    assert ok(await client.get(f"/v1/subscriptions/{found['lago_id']}"))["status"] == "past_due"
    listed = await lago_ok(client.get("/api/v1/subscriptions", params={"external_customer_id": "acme"}))
    assert [s["external_id"] for s in listed["subscriptions"]] == ["sub-acme"]
    ended = (await lago_ok(client.delete("/api/v1/subscriptions/sub-acme")))["subscription"]
    assert ended["status"] == "terminated"


async def test_lists_page_by_number(client) -> None:
    for name in ("a", "b", "c"):
        await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": name}}))
    page = await lago_ok(client.get("/api/v1/customers", params={"page": 2, "per_page": 2}))
    assert [c["external_id"] for c in page["customers"]] == ["c"]
    assert page["meta"] == {"current_page": 2, "next_page": None, "prev_page": 1, "total_pages": 2, "total_count": 3}


async def test_a_request_without_an_operator_key_gets_lagos_401(client) -> None:
    refused = await client.get("/api/v1/customers/acme", headers={"Authorization": ""})
    assert refused.status_code == 401
    assert refused.json()["status"] == 401
