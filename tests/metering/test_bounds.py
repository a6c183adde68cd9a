"""D2 (issue 11): an event whose value or running usage total would pass the bounds is refused alone (422
amount_too_large); the customer's later events, and the rest of its batch, are still rated."""

from __future__ import annotations

from tests.factories import expect_error, ok
from tests.metering._helpers import funded, ledger_problems, make_metric, make_price, send

LARGEST = "1000000000000"  # 10^12 units: money.MAX_AMOUNT


async def _free_tokens(client) -> str:
    await make_metric(client, "tokens", "sum", field="n")
    await make_price(client, "tokens", properties={"amount": "0"})
    return await funded(client, "10.00", currency="USD")


async def test_d2_an_event_value_past_the_largest_amount_is_refused_alone(client, app):
    customer = await _free_tokens(client)
    for n in range(2):
        response = await send(client, customer, "tokens", f"big-{n}", properties={"n": "9223372036854.775807"})
        expect_error(response, 422, "amount_too_large")
    assert (await send(client, customer, "tokens", "small", properties={"n": "1"})).status_code == 201
    assert await ledger_problems(app) == []


async def test_d2_a_period_total_past_the_largest_balance_refuses_that_event_only(client, app):
    customer = await _free_tokens(client)
    for n in range(4):
        assert (await send(client, customer, "tokens", f"max-{n}", properties={"n": LARGEST})).status_code == 201
    expect_error(await send(client, customer, "tokens", "over", properties={"n": "0.5"}), 422, "amount_too_large")
    other = await funded(client, "10.00", currency="USD")
    answer = ok(await client.post("/v1/events/batch", json={"events": [
        {"customer": customer, "metric": "tokens", "transaction_id": "over-2", "properties": {"n": "1"}},
        {"customer": other, "metric": "tokens", "transaction_id": "fine", "properties": {"n": "1"}},
    ]}))
    assert answer["accepted"] == 1
    assert answer["results"][0]["error"]["code"] == "amount_too_large"
    assert answer["results"][1]["event"]["transaction_id"] == "fine"
    assert await ledger_problems(app) == []


async def test_d2_a_usage_report_sums_past_64_bits(client, app):
    customer = await _free_tokens(client)
    start = app.state.clock.now()
    # Three monthly periods at the largest total: 1.2 x 10^19 micro-units in one report row.
    for month in range(3):
        for n in range(4):
            response = await send(client, customer, "tokens", f"m{month}-{n}", properties={"n": LARGEST})
            assert response.status_code == 201, response.text
        app.state.clock.advance(days=32)
    params = {"from": start.isoformat(), "to": app.state.clock.now().isoformat(), "group_by": "metric"}
    report = ok(await client.get(f"/v1/customers/{customer}/usage", params=params))
    assert [row["units"] for row in report["data"]] == ["12000000000000"]
