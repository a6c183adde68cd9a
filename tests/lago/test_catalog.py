"""lago/catalog.py and endpoints.py through /api/v1: customers, metrics, plans' charge models, subscriptions."""

from __future__ import annotations

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


CHARGES = {
    "pkg": ("package", {"amount": "5", "package_size": 100, "free_units": 10}),
    "vol": ("volume", {"volume_ranges": [
        {"from_value": 0, "to_value": 100, "per_unit_amount": "0.02", "flat_amount": "0"},
        {"from_value": 101, "to_value": None, "per_unit_amount": "0.01", "flat_amount": "1"}]}),
    "pct": ("percentage", {"rate": "2.5", "fixed_amount": "0.1", "per_transaction_max_amount": "3"}),
}


async def test_lago_charge_models_price_usage_and_unknown_aggregations_are_a_422(client) -> None:
    refused = await lago_ok(client.post("/api/v1/billable_metrics", json={"billable_metric": {
        "name": "Seats", "code": "seats", "aggregation_type": "weighted_sum_agg", "field_name": "seats"}}), 422)
    assert (refused["code"], refused["error_details"]) == (
        "validation_errors", {"aggregation_type": ["value_is_invalid"]}
    )
    charges = []
    for code, (model, properties) in CHARGES.items():
        metric = (await lago_ok(client.post("/api/v1/billable_metrics", json={"billable_metric": {
            "name": code, "code": code, "aggregation_type": "sum_agg", "field_name": "tokens"}})))["billable_metric"]
        charges.append({"billable_metric_id": metric["lago_id"], "charge_model": model, "properties": properties})
    plan = (await lago_ok(client.post("/api/v1/plans", json={"plan": {
        "name": "Mix", "code": "mix", "interval": "monthly", "amount_cents": 0, "amount_currency": "USD",
        "charges": charges}})))["plan"]
    assert [(c["charge_model"], c["billable_metric_code"]) for c in plan["charges"]] == [
        ("package", "pkg"), ("volume", "vol"), ("percentage", "pct")
    ]
    await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": "acme", "currency": "USD"}}))
    wallet = (await lago_ok(client.post("/api/v1/wallets", json={"wallet": {
        "external_customer_id": "acme", "rate_amount": "1", "granted_credits": "100"}})))["wallet"]
    await lago_ok(client.post("/api/v1/subscriptions", json={"subscription": {
        "external_customer_id": "acme", "plan_code": "mix", "external_id": "sub-acme"}}))
    # package: 150 - 10 free = 140 units, 2 packages of 100 at 5.00; volume: 150 units all at 0.01 + 1.00 flat;
    # percentage: 2.5% of 200 + 0.10 = 5.10, capped at 3.00.
    for code, tokens, balance in (("pkg", 150, 9000), ("vol", 150, 8750), ("pct", 200, 8450)):
        await lago_ok(client.post("/api/v1/events", json={"event": {
            "transaction_id": code, "external_subscription_id": "sub-acme", "code": code,
            "properties": {"tokens": tokens}}}))
        found = (await lago_ok(client.get(f"/api/v1/wallets/{wallet['lago_id']}")))["wallet"]
        assert found["balance_cents"] == balance, code


async def test_a_subscription_whose_fee_the_balance_cannot_pay_is_created_past_due(client) -> None:
    await set_up(client, granted="0", plan_cents=1000)
    found = (await lago_ok(client.get("/api/v1/subscriptions/sub-acme")))["subscription"]
    assert found["status"] == "active"
    assert ok(await client.get(f"/v1/subscriptions/{found['lago_id']}"))["status"] == "past_due"
    listed = await lago_ok(client.get("/api/v1/subscriptions", params={"external_customer_id": "acme"}))
    assert [s["external_id"] for s in listed["subscriptions"]] == ["sub-acme"]
    ended = (await lago_ok(client.delete("/api/v1/subscriptions/sub-acme")))["subscription"]
    assert ended["status"] == "terminated"


async def test_lists_page_by_number_and_a_request_without_a_key_gets_lagos_401(client) -> None:
    for name in ("a", "b", "c"):
        await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": name}}))
    page = await lago_ok(client.get("/api/v1/customers", params={"page": 2, "per_page": 2}))
    assert [c["external_id"] for c in page["customers"]] == ["c"]
    assert page["meta"] == {"current_page": 2, "next_page": None, "prev_page": 1, "total_pages": 2, "total_count": 3}
    refused = await client.get("/api/v1/customers/a", headers={"Authorization": ""})
    assert (refused.status_code, refused.json()["status"]) == (401, 401)
