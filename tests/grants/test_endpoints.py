"""HTTP credit grant endpoints: create, read, list, void."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from tests.factories import (
    balance,
    customer_id,
    debit,
    expect_error,
    grant,
    hold,
    make_customer,
    ok,
    parse_time,
    wallet,
)


async def _transactions(client: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
    return ok(await client.get("/v1/transactions", params={"customer": customer, "limit": 100}))["data"]


async def _post_grant(client: httpx.AsyncClient, customer: str, amount: Any, **fields: Any) -> httpx.Response:
    return await client.post("/v1/credit_grants", json={"customer": customer, "amount": amount, **fields})


# --- create ---------------------------------------------------------------------------------------


async def test_create_paid_grant_returns_201_with_defaults(client, clock):
    customer = await customer_id(client)
    body = await grant(client, customer, "10.00")
    assert body["object"] == "credit_grant"
    assert body["id"].startswith("grt_")
    assert body["customer"] == customer
    assert body["wallet"] == (await wallet(client, customer))["id"]
    assert body["currency"] == "USD"
    assert (body["amount"], body["remaining"], body["held"]) == ("10.00", "10.00", "0.00")
    assert body["category"] == "paid"
    assert body["priority"] == 50
    assert body["status"] == "active"
    assert body["expires_at"] is None
    assert body["cost"] is None
    assert body["ended_at"] is None
    assert parse_time(body["created_at"]) == clock.now()


async def test_create_promotional_grant_with_priority_expiry_cost_and_metadata(client, clock):
    customer = await customer_id(client)
    expires = clock.now() + timedelta(days=30)
    body = await grant(
        client,
        customer,
        "25",
        category="promotional",
        priority=5,
        expires_at=expires.isoformat(),
        cost={"amount": "19.99", "currency": "usd"},
        description="welcome bonus",
        metadata={"campaign": "spring"},
    )
    assert body["category"] == "promotional"
    assert body["priority"] == 5
    assert parse_time(body["expires_at"]) == expires
    assert body["cost"] == {"amount": "19.99", "currency": "USD"}
    assert body["description"] == "welcome bonus"
    assert body["metadata"] == {"campaign": "spring"}
    assert body["amount"] == "25.00"


async def test_create_grant_adds_to_the_wallet(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    await grant(client, customer, "2.50", category="promotional")
    assert balance(await wallet(client, customer)) == ("12.50", "0.00", "12.50")


async def test_create_grant_by_external_id(client):
    created = await make_customer(client, external_id="grant-ext")
    body = await grant(client, "grant-ext", "1.00")
    assert body["customer"] == created["id"]


async def test_create_grant_into_credits_wallet(client):
    customer = await customer_id(client)
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    body = await grant(client, customer, "500", currency="credits")
    assert (body["currency"], body["amount"], body["remaining"]) == ("CREDITS", "500", "500")
    assert balance(await wallet(client, customer, "CREDITS")) == ("500", "0", "500")
    assert balance(await wallet(client, customer, "USD")) == ("0.00", "0.00", "0.00")


async def test_create_grant_records_a_grant_transaction_from_topups_or_promotions(client):
    customer = await customer_id(client)
    paid = await grant(client, customer, "3.00")
    promo = await grant(client, customer, "2.00", category="promotional")
    promo_op, paid_op = await _transactions(client, customer)
    assert (paid_op["kind"], paid_op["reference"], paid_op["amount"]) == ("grant", paid["id"], "3.00")
    assert [(t["from"], t["to"], t["amount"]) for t in paid_op["transfers"]] == [("sys_topups_USD", paid["id"], "3.00")]
    assert [(t["from"], t["to"], t["amount"]) for t in promo_op["transfers"]] == [
        ("sys_promotions_USD", promo["id"], "2.00"),
    ]


async def test_create_grant_expiring_in_the_past_is_422_and_writes_nothing(client, clock):
    customer = await customer_id(client)
    past = (clock.now() - timedelta(seconds=1)).isoformat()
    error = expect_error(
        await _post_grant(client, customer, "5", category="paid", expires_at=past), 422, "invalid_request"
    )
    assert error["param"] == "expires_at"
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")
    assert await _transactions(client, customer) == []


async def test_create_grant_expiring_now_is_422(client, clock):
    customer = await customer_id(client)
    response = await _post_grant(client, customer, "5", category="paid", expires_at=clock.now().isoformat())
    expect_error(response, 422, "invalid_request")


async def test_create_grant_with_naive_expires_at_is_422(client):
    customer = await customer_id(client)
    response = await _post_grant(client, customer, "5", category="paid", expires_at="2030-01-01T00:00:00")
    assert expect_error(response, 422, "validation_error")["param"] == "expires_at"


async def test_create_grant_rejects_zero_negative_and_overprecise_amounts(client):
    customer = await customer_id(client)
    for amount in ("0", "-1", "0.0000001", 1.5e-7, "abc"):
        response = await _post_grant(client, customer, amount, category="paid")
        assert expect_error(response, 422, "validation_error")["param"] == "amount", amount
    assert await _transactions(client, customer) == []


async def test_create_grant_with_unknown_category_is_422(client):
    customer = await customer_id(client)
    response = await _post_grant(client, customer, "1", category="free")
    assert expect_error(response, 422, "validation_error")["param"] == "category"


async def test_create_grant_with_priority_out_of_range_is_422(client):
    customer = await customer_id(client)
    for priority in (-1, 1001):
        response = await _post_grant(client, customer, "1", category="paid", priority=priority)
        assert expect_error(response, 422, "validation_error")["param"] == "priority"


async def test_create_grant_with_unknown_field_is_422(client):
    customer = await customer_id(client)
    response = await _post_grant(client, customer, "1", category="paid", remaining="1")
    assert expect_error(response, 422, "validation_error")["param"] == "remaining"


async def test_create_grant_into_a_wallet_the_customer_lacks_is_422_and_writes_nothing(client):
    customer = await customer_id(client)
    error = expect_error(
        await _post_grant(client, customer, "5", category="paid", currency="EUR"), 422, "wallet_not_found"
    )
    assert error["param"] == "currency"
    assert len(ok(await client.get(f"/v1/customers/{customer}/wallets"))["data"]) == 1
    assert ok(await client.get("/v1/credit_grants", params={"customer": customer}))["data"] == []


async def test_create_grant_for_unknown_customer_is_404(client):
    error = expect_error(await _post_grant(client, "cus_nobody", "5", category="paid"), 404, "not_found")
    assert error["param"] == "customer"


# --- read and list --------------------------------------------------------------------------------


async def test_get_grant(client):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00", metadata={"k": "v"})
    assert ok(await client.get(f"/v1/credit_grants/{created['id']}")) == created


async def test_get_grant_shows_what_remains_after_a_debit(client):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00")
    ok(await debit(client, customer, "3.25"), 201)
    body = ok(await client.get(f"/v1/credit_grants/{created['id']}"))
    assert (body["amount"], body["remaining"], body["status"]) == ("10.00", "6.75", "active")


async def test_get_grant_past_its_expiry_is_expired_with_nothing_remaining(client, clock):
    customer = await customer_id(client)
    expires = clock.now() + timedelta(hours=1)
    created = await grant(client, customer, "10.00", expires_at=expires.isoformat())
    clock.advance(hours=1)
    body = ok(await client.get(f"/v1/credit_grants/{created['id']}"))
    assert (body["status"], body["remaining"]) == ("expired", "0.00")
    assert parse_time(body["ended_at"]) == expires


async def test_get_unknown_grant_is_404(client):
    expect_error(await client.get("/v1/credit_grants/grt_nothing"), 404, "not_found")


async def test_list_grants_by_customer_newest_first(client):
    customer = await customer_id(client)
    other = await customer_id(client)
    ids = [(await grant(client, customer, f"{n}.00"))["id"] for n in (1, 2, 3)]
    await grant(client, other, "9.00")
    page = ok(await client.get("/v1/credit_grants", params={"customer": customer}))
    assert page["object"] == "list"
    assert [g["id"] for g in page["data"]] == list(reversed(ids))
    assert page["has_more"] is False


async def test_list_grants_by_customer_external_id(client):
    await make_customer(client, external_id="list-grants")
    created = await grant(client, "list-grants", "1.00")
    page = ok(await client.get("/v1/credit_grants", params={"customer": "list-grants"}))
    assert [g["id"] for g in page["data"]] == [created["id"]]


async def test_list_grants_paginates(client):
    customer = await customer_id(client)
    newest_first = list(reversed([(await grant(client, customer, "1.00"))["id"] for _ in range(3)]))
    first = ok(await client.get("/v1/credit_grants", params={"customer": customer, "limit": 2}))
    assert [g["id"] for g in first["data"]] == newest_first[:2]
    assert first["has_more"] is True
    second = ok(
        await client.get(
            "/v1/credit_grants", params={"customer": customer, "limit": 2, "starting_after": newest_first[1]}
        )
    )
    assert [g["id"] for g in second["data"]] == newest_first[2:]
    assert second["has_more"] is False


async def test_list_grants_of_unknown_customer_is_404(client):
    expect_error(await client.get("/v1/credit_grants", params={"customer": "cus_nobody"}), 404, "not_found")


# --- void -----------------------------------------------------------------------------------------


async def test_void_grant_voids_the_remainder(client, clock):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00")
    ok(await debit(client, customer, "4.00"), 201)
    clock.advance(minutes=5)
    body = ok(await client.post(f"/v1/credit_grants/{created['id']}/void"))
    assert (body["status"], body["remaining"], body["amount"]) == ("voided", "0.00", "10.00")
    assert parse_time(body["ended_at"]) == clock.now()
    assert ok(await client.get(f"/v1/credit_grants/{created['id']}"))["status"] == "voided"
    w = await wallet(client, customer)
    assert balance(w) == ("0.00", "0.00", "0.00")
    assert w["lots"] == []


async def test_void_grant_returns_the_remainder_to_its_source_account(client):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00", category="promotional")
    ok(await debit(client, customer, "4.00"), 201)
    ok(await client.post(f"/v1/credit_grants/{created['id']}/void"))
    latest = (await _transactions(client, customer))[0]
    assert (latest["kind"], latest["amount"], latest["reference"]) == ("grant_void", "6.00", created["id"])
    assert [(t["from"], t["to"], t["amount"]) for t in latest["transfers"]] == [
        (created["id"], "sys_promotions_USD", "6.00"),
    ]


async def test_voided_grant_is_never_drawn_again(client):
    customer = await customer_id(client)
    voided = await grant(client, customer, "10.00", priority=1)
    kept = await grant(client, customer, "3.00", priority=99)
    ok(await client.post(f"/v1/credit_grants/{voided['id']}/void"))
    body = ok(await debit(client, customer, "2.00"), 201)
    assert [d["grant"] for d in body["drawn"]] == [kept["id"]]
    expect_error(await debit(client, customer, "1.01"), 402, "insufficient_funds")
    assert ok(await client.get(f"/v1/credit_grants/{voided['id']}"))["remaining"] == "0.00"


async def test_void_grant_twice_is_409(client):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00")
    ok(await client.post(f"/v1/credit_grants/{created['id']}/void"))
    error = expect_error(await client.post(f"/v1/credit_grants/{created['id']}/void"), 409, "grant_not_active")
    assert "voided" in error["message"]
    assert [op["kind"] for op in await _transactions(client, customer)] == ["grant_void", "grant"]


async def test_void_expired_grant_is_409(client, clock):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    clock.advance(hours=2)
    error = expect_error(await client.post(f"/v1/credit_grants/{created['id']}/void"), 409, "grant_not_active")
    assert "expired" in error["message"]


async def test_void_unknown_grant_is_404(client):
    expect_error(await client.post("/v1/credit_grants/grt_nothing/void"), 404, "not_found")


async def test_void_grant_keeps_the_held_part_until_its_hold_ends(client):
    customer = await customer_id(client)
    created = await grant(client, customer, "10.00")
    reserved = ok(await hold(client, customer, "3.00"), 201)
    body = ok(await client.post(f"/v1/credit_grants/{created['id']}/void"))
    assert (body["status"], body["remaining"], body["held"]) == ("voided", "3.00", "3.00")
    assert balance(await wallet(client, customer)) == ("3.00", "3.00", "0.00")
    ok(await client.post(f"/v1/holds/{reserved['id']}/void"))
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")
    assert ok(await client.get(f"/v1/credit_grants/{created['id']}"))["remaining"] == "0.00"
