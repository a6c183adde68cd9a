"""End-to-end metering through the API: a graduated price, events charged in real time, duplicates."""

from tests.factories import grant, make_customer, ok, wallet


async def test_graduated_usage_is_charged_exactly_and_duplicates_are_free(client):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "100.00")
    ok(await client.post("/v1/metrics", json={"code": "calls", "name": "API calls", "aggregation": "count"}), 201)
    ranges = [{"from": "0", "to": "2", "per_unit": "1.00", "flat": "0"}, {"from": "2", "to": None, "per_unit": "0.50"}]
    ok(await client.post("/v1/prices", json={"metric": "calls", "currency": "USD", "model": "graduated",
                                             "properties": {"ranges": ranges}, "period": "month"}), 201)
    costs = []
    for n in range(4):
        event = ok(await client.post("/v1/events", json={"customer": customer, "metric": "calls",
                                                         "transaction_id": f"t{n}"}), 201)
        costs.append(event["cost"])
    assert costs == ["1.00", "1.00", "0.50", "0.50"]
    again = await client.post("/v1/events", json={"customer": customer, "metric": "calls", "transaction_id": "t0"})
    assert again.status_code == 200 and again.json()["duplicate"] is True and again.json()["cost"] == "1.00"
    assert (await wallet(client, customer))["available"] == "97.00"
    batch = ok(await client.post("/v1/events/batch", json={"events": [
        {"customer": customer, "metric": "calls", "transaction_id": "t4"},
        {"customer": customer, "metric": "calls", "transaction_id": "t1"},
        {"customer": customer, "metric": "nope", "transaction_id": "t5"},
        {"customer": customer, "metric": "calls"},
    ]}))
    assert [r["status"] for r in batch["results"]] == ["accepted", "duplicate", "rejected", "rejected"]
    assert (await wallet(client, customer))["available"] == "96.50"
    estimate = ok(await client.post("/v1/events/estimate", json={"customer": customer, "metric": "calls",
                                                                 "transaction_id": "t9"}))
    assert estimate["cost"] == "0.50"
    assert (await wallet(client, customer))["available"] == "96.50"
    refund = ok(await client.post(f"/v1/events/{again.json()['id']}/refund"), 201)
    assert refund["amount"] == "1.00"
    assert (await wallet(client, customer))["available"] == "97.50"
