"""HTTP wallet endpoints: list with lots in draw order, add a wallet, credit limits and overdraft."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import balance, customer_id, debit, expect_error, grant, make_customer, ok, parse_time, wallet

# --- list -----------------------------------------------------------------------------------------


async def test_list_wallets_shows_balances_and_lots(client, clock):
    customer = await customer_id(client)
    expires = clock.now() + timedelta(days=30)
    lot = await grant(client, customer, "10.00", category="promotional", priority=7, expires_at=expires.isoformat())
    (w,) = ok(await client.get(f"/v1/customers/{customer}/wallets"))["data"]
    assert w["object"] == "wallet"
    assert w["currency"] == "USD"
    assert balance(w) == ("10.00", "0.00", "10.00")
    assert len(w["lots"]) == 1
    listed = w["lots"][0]
    assert set(listed) == {"id", "category", "remaining", "held", "priority", "expires_at"}
    assert (listed["id"], listed["category"], listed["remaining"], listed["held"], listed["priority"]) == (
        lot["id"],
        "promotional",
        "10.00",
        "0.00",
        7,
    )
    assert parse_time(listed["expires_at"]) == expires


async def test_list_wallets_lists_lots_in_draw_order(client, clock):
    customer = await customer_id(client)
    soon = (clock.now() + timedelta(days=1)).isoformat()
    later = (clock.now() + timedelta(days=9)).isoformat()
    never = await grant(client, customer, "1.00")
    later_lot = await grant(client, customer, "1.00", expires_at=later)
    soon_lot = await grant(client, customer, "1.00", expires_at=soon)
    first = await grant(client, customer, "1.00", priority=10)
    last = await grant(client, customer, "1.00", priority=90, expires_at=soon)
    w = await wallet(client, customer)
    assert [lot["id"] for lot in w["lots"]] == [first["id"], soon_lot["id"], later_lot["id"], never["id"], last["id"]]


async def test_list_wallets_of_unknown_customer_is_404(client):
    expect_error(await client.get("/v1/customers/cus_nobody/wallets"), 404, "not_found")


async def test_list_wallets_by_external_id(client):
    await make_customer(client, external_id="wal-ext")
    (w,) = ok(await client.get("/v1/customers/wal-ext/wallets"))["data"]
    assert w["currency"] == "USD"


async def test_list_wallets_hides_an_expired_lot(client, clock):
    customer = await customer_id(client)
    await grant(client, customer, "4.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    kept = await grant(client, customer, "6.00")
    clock.advance(hours=2)
    w = await wallet(client, customer)
    assert [lot["id"] for lot in w["lots"]] == [kept["id"]]
    assert balance(w) == ("6.00", "0.00", "6.00")


# --- add ------------------------------------------------------------------------------------------


async def test_add_credits_wallet(client):
    customer = await customer_id(client)
    body = ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "credits"}), 201)
    assert body["currency"] == "CREDITS"
    assert body["id"].startswith("wal_")
    assert balance(body) == ("0", "0", "0")
    assert body["credit_limit"] == "0"
    assert body["lots"] == []
    assert sorted(w["currency"] for w in ok(await client.get(f"/v1/customers/{customer}/wallets"))["data"]) == [
        "CREDITS",
        "USD",
    ]


async def test_add_wallet_with_credit_limit(client):
    customer = await customer_id(client)
    body = ok(
        await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "EUR", "credit_limit": "5"}), 201
    )
    assert body["credit_limit"] == "5.00"
    assert body["available"] == "5.00"


async def test_added_wallet_is_separate_from_the_first(client):
    customer = await customer_id(client)
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    await grant(client, customer, "1000", currency="CREDITS")
    await grant(client, customer, "3.00")
    ok(await debit(client, customer, "250", currency="CREDITS"), 201)
    assert balance(await wallet(client, customer, "CREDITS")) == ("750", "0", "750")
    assert balance(await wallet(client, customer, "USD")) == ("3.00", "0.00", "3.00")


async def test_add_duplicate_wallet_is_409(client):
    customer = await customer_id(client)
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    expect_error(
        await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 409, "wallet_exists"
    )
    expect_error(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "usd"}), 409, "wallet_exists")
    assert len(ok(await client.get(f"/v1/customers/{customer}/wallets"))["data"]) == 2


async def test_add_wallet_with_invalid_unit_is_422(client):
    customer = await customer_id(client)
    error = expect_error(
        await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "1$"}), 422, "validation_error"
    )
    assert error["param"] == "currency"


async def test_add_wallet_for_unknown_customer_is_404(client):
    expect_error(await client.post("/v1/customers/cus_nobody/wallets", json={"currency": "EUR"}), 404, "not_found")


# --- credit limit and overdraft -------------------------------------------------------------------


async def test_patch_wallet_changes_its_credit_limit(client):
    customer = await customer_id(client)
    await grant(client, customer, "2.00")
    body = ok(await client.patch(f"/v1/customers/{customer}/wallets/usd", json={"credit_limit": "25"}))
    assert body["credit_limit"] == "25.00"
    assert balance(body) == ("2.00", "0.00", "27.00")
    assert (await wallet(client, customer))["credit_limit"] == "25.00"


async def test_patch_wallet_the_customer_lacks_is_404(client):
    customer = await customer_id(client)
    expect_error(
        await client.patch(f"/v1/customers/{customer}/wallets/EUR", json={"credit_limit": "1"}), 404, "not_found"
    )


async def test_patch_wallet_with_unknown_field_is_422(client):
    customer = await customer_id(client)
    response = await client.patch(f"/v1/customers/{customer}/wallets/USD", json={"credit_limit": "1", "posted": "9"})
    expect_error(response, 422, "validation_error")


async def test_debit_beyond_lots_draws_overdraft(client):
    customer = await customer_id(client, credit_limit="10")
    lot = await grant(client, customer, "5.00")
    body = ok(await debit(client, customer, "12.00"), 201)
    assert [(d["grant"], d["source"], d["amount"]) for d in body["drawn"]] == [
        (lot["id"], "grant", "5.00"),
        (None, "overdraft", "7.00"),
    ]
    assert body["wallet"] == {"posted": "-7.00", "held": "0.00", "available": "3.00"}
    assert balance(await wallet(client, customer)) == ("-7.00", "0.00", "3.00")


async def test_overdraft_stops_at_minus_the_credit_limit(client):
    customer = await customer_id(client, credit_limit="10")
    await grant(client, customer, "5.00")
    ok(await debit(client, customer, "15.00"), 201)
    assert balance(await wallet(client, customer)) == ("-10.00", "0.00", "0.00")
    error = expect_error(await debit(client, customer, "0.01"), 402, "insufficient_funds")
    assert error["details"]["available"] == "0.00"
    assert balance(await wallet(client, customer)) == ("-10.00", "0.00", "0.00")


async def test_debit_just_beyond_lots_plus_limit_is_402(client):
    customer = await customer_id(client, credit_limit="10")
    await grant(client, customer, "5.00")
    expect_error(await debit(client, customer, "15.000001"), 402, "insufficient_funds")
    assert balance(await wallet(client, customer)) == ("5.00", "0.00", "15.00")


async def test_next_grant_repays_overdraft_first(client):
    customer = await customer_id(client, credit_limit="10")
    ok(await debit(client, customer, "6.00"), 201)
    lot = await grant(client, customer, "10.00")
    assert lot["amount"] == "10.00"
    assert lot["remaining"] == "4.00"
    w = await wallet(client, customer)
    assert balance(w) == ("4.00", "0.00", "14.00")
    assert [(x["id"], x["remaining"]) for x in w["lots"]] == [(lot["id"], "4.00")]


async def test_grant_smaller_than_overdraft_repays_part_of_it(client):
    customer = await customer_id(client, credit_limit="10")
    ok(await debit(client, customer, "6.00"), 201)
    lot = await grant(client, customer, "2.50")
    assert lot["remaining"] == "0.00"
    assert balance(await wallet(client, customer)) == ("-3.50", "0.00", "6.50")


async def test_lowering_credit_limit_below_overdraft_in_use_is_409(client):
    customer = await customer_id(client, credit_limit="10")
    ok(await debit(client, customer, "7.00"), 201)
    error = expect_error(
        await client.patch(f"/v1/customers/{customer}/wallets/USD", json={"credit_limit": "6.99"}),
        409,
        "credit_limit_below_usage",
    )
    assert error["details"] == {"overdraft_in_use": "7.00", "currency": "USD"}
    assert (await wallet(client, customer))["credit_limit"] == "10.00"


async def test_lowering_credit_limit_to_exactly_overdraft_in_use_is_allowed(client):
    customer = await customer_id(client, credit_limit="10")
    ok(await debit(client, customer, "7.00"), 201)
    body = ok(await client.patch(f"/v1/customers/{customer}/wallets/USD", json={"credit_limit": "7"}))
    assert body["credit_limit"] == "7.00"
    assert balance(body) == ("-7.00", "0.00", "0.00")
    expect_error(await debit(client, customer, "0.01"), 402, "insufficient_funds")
