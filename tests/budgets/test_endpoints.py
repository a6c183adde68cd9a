"""Budget endpoints: create, read, change, archive; validation; the current period figures."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.factories import (
    customer_id,
    debit,
    expect_error,
    grant,
    make_api_key,
    make_budget,
    make_customer,
    ok,
)


async def test_create_answers_the_budget_with_an_empty_current_period(client, clock):
    clock.set(datetime(2026, 3, 15, 10, tzinfo=UTC))
    customer = await customer_id(client)

    budget = await make_budget(client, customer=customer, amount="50.00", thresholds=[80, 50, 100, 50])

    assert budget["object"] == "budget"
    assert budget["customer"] == customer
    assert budget["api_key"] is None
    assert (budget["currency"], budget["amount"], budget["period"]) == ("USD", "50.00", "month")
    assert (budget["timezone"], budget["action"], budget["status"]) == ("UTC", "block", "active")
    assert budget["thresholds"] == [50, 80, 100]
    assert budget["current_period"] == {
        "start": "2026-03-01T00:00:00Z", "end": "2026-04-01T00:00:00Z",
        "spent": "0.00", "reserved": "0.00", "remaining": "50.00",
    }


async def test_current_period_follows_the_budgets_timezone(client, clock):
    clock.set(datetime(2026, 3, 31, 20, tzinfo=UTC))
    customer = await customer_id(client)

    budget = await make_budget(client, customer=customer, amount="5", period="day", timezone="Asia/Jakarta")

    # 20:00 UTC on 31 March is 03:00 on 1 April in Jakarta (UTC+7).
    assert budget["current_period"]["start"] == "2026-03-31T17:00:00Z"
    assert budget["current_period"]["end"] == "2026-04-01T17:00:00Z"


async def test_a_budget_for_an_api_key_belongs_to_the_keys_customer(client):
    customer = await customer_id(client)
    key = await make_api_key(client, customer)

    budget = await make_budget(client, api_key=key["id"], amount="10")

    assert (budget["customer"], budget["api_key"]) == (customer, key["id"])


async def test_api_key_of_another_customer_is_refused(client):
    owner, stranger = await customer_id(client), await customer_id(client)
    key = await make_api_key(client, owner)

    response = await client.post(
        "/v1/budgets", json={"customer": stranger, "api_key": key["id"], "amount": "1", "period": "day",
                             "action": "block"}
    )

    assert expect_error(response, 404, "not_found")["param"] == "api_key"


async def test_bad_input_is_refused_and_creates_nothing(client):
    customer = await customer_id(client)
    base = {"customer": customer, "amount": "1", "period": "month", "action": "block"}
    for change, param in [
        ({"amount": "0"}, "amount"),
        ({"amount": "1.0000001"}, "amount"),
        ({"period": "year"}, "period"),
        ({"action": "warn"}, "action"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"thresholds": [0]}, "thresholds"),
        ({"customer": None}, None),
    ]:
        response = await client.post("/v1/budgets", json={**base, **change})
        error = expect_error(response, 422, "validation_error")
        if param is not None:
            assert param in (error.get("param") or ""), error
    expect_error(await client.post("/v1/budgets", json={**base, "customer": "nobody"}), 404, "not_found")
    expect_error(await client.post("/v1/budgets", json={**base, "currency": "EUR"}), 422, "wallet_not_found")
    assert ok(await client.get("/v1/budgets", params={"customer": customer}))["data"] == []


async def test_get_shows_spend_reservations_and_what_remains(client):
    customer = await customer_id(client)
    await grant(client, customer, "100")
    budget = await make_budget(client, customer=customer, amount="50")
    assert (await debit(client, customer, "12.5")).status_code == 201
    assert (await client.post("/v1/holds", json={"customer": customer, "amount": "7.5"})).status_code == 201

    period = ok(await client.get(f"/v1/budgets/{budget['id']}"))["current_period"]

    assert (period["spent"], period["reserved"], period["remaining"]) == ("12.50", "7.50", "30.00")


async def test_list_filters_by_customer_key_and_status(client):
    customer = await customer_id(client)
    other = await customer_id(client)
    key = await make_api_key(client, customer)
    by_key = await make_budget(client, api_key=key["id"], amount="1")
    whole = await make_budget(client, customer=customer, amount="2")
    await make_budget(client, customer=other, amount="3")
    ok(await client.post(f"/v1/budgets/{whole['id']}/archive"))

    mine = ok(await client.get("/v1/budgets", params={"customer": customer}))["data"]
    assert [b["id"] for b in mine] == [whole["id"], by_key["id"]]
    keyed = ok(await client.get("/v1/budgets", params={"api_key": key["id"]}))["data"]
    assert [b["id"] for b in keyed] == [by_key["id"]]
    active = ok(await client.get("/v1/budgets", params={"customer": customer, "status": "active"}))["data"]
    assert [b["id"] for b in active] == [by_key["id"]]


async def test_patch_changes_amount_thresholds_and_action(client):
    customer = await customer_id(client)
    budget = await make_budget(client, customer=customer, amount="1", thresholds=[50])

    changed = ok(
        await client.patch(f"/v1/budgets/{budget['id']}", json={"amount": "9", "thresholds": [90], "action": "alert"})
    )

    assert (changed["amount"], changed["thresholds"], changed["action"]) == ("9.00", [90], "alert")
    expect_error(await client.patch(f"/v1/budgets/{budget['id']}", json={"period": "day"}), 422, "validation_error")


async def test_archived_budget_cannot_change_or_be_archived_again(client):
    customer = await customer_id(client)
    budget = await make_budget(client, customer=customer, amount="1")

    archived = ok(await client.post(f"/v1/budgets/{budget['id']}/archive"))

    assert archived["status"] == "archived"
    expect_error(await client.post(f"/v1/budgets/{budget['id']}/archive"), 409, "conflict")
    expect_error(await client.patch(f"/v1/budgets/{budget['id']}", json={"amount": "2"}), 409, "conflict")


async def test_unknown_budget_is_404(client):
    expect_error(await client.get("/v1/budgets/bdg_missing"), 404, "not_found")


async def test_budget_on_a_credits_wallet(client):
    customer = (await make_customer(client))["id"]
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)

    budget = await make_budget(client, customer=customer, currency="CREDITS", amount="1000")

    assert (budget["currency"], budget["amount"]) == ("CREDITS", "1000")
