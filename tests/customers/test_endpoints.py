"""HTTP customer endpoints: create, read by id or external_id, list with cursors, update."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx

from tests.factories import expect_error, make_customer, ok, wallet


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _all_customers(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    return ok(await client.get("/v1/customers", params={"limit": 100}))["data"]


# --- create ---------------------------------------------------------------------------------------


async def test_create_customer_returns_201_with_its_fields(client, clock):
    body = ok(
        await client.post(
            "/v1/customers",
            json={"external_id": "acme-1", "name": "Acme", "email": "billing@acme.test", "metadata": {"plan": "pro"}},
        ),
        201,
    )
    assert body["object"] == "customer"
    assert body["id"].startswith("cus_")
    assert body["external_id"] == "acme-1"
    assert body["name"] == "Acme"
    assert body["email"] == "billing@acme.test"
    assert body["metadata"] == {"plan": "pro"}
    assert _at(body["created_at"]) == clock.now()
    assert _at(body["updated_at"]) == clock.now()


async def test_create_customer_defaults_to_usd_and_utc(client):
    body = await make_customer(client)
    assert body["currency"] == "USD"
    assert body["timezone"] == "UTC"
    assert body["name"] is None
    assert body["email"] is None
    assert body["metadata"] == {}


async def test_create_customer_opens_an_empty_wallet_in_its_currency(client):
    customer = await make_customer(client, currency="eur")
    assert customer["currency"] == "EUR"
    wallets = ok(await client.get(f"/v1/customers/{customer['id']}/wallets"))["data"]
    assert len(wallets) == 1
    (only,) = wallets
    assert only["id"].startswith("wal_")
    assert only["currency"] == "EUR"
    assert (only["posted"], only["held"], only["available"], only["credit_limit"]) == ("0.00", "0.00", "0.00", "0.00")
    assert only["lots"] == []


async def test_create_customer_credit_limit_applies_to_its_wallet(client):
    customer = await make_customer(client, credit_limit="25")
    w = await wallet(client, customer["id"])
    assert w["credit_limit"] == "25.00"
    assert w["posted"] == "0.00"
    assert w["available"] == "25.00"


async def test_create_customer_accepts_an_iana_timezone(client):
    assert (await make_customer(client, timezone="Asia/Jakarta"))["timezone"] == "Asia/Jakarta"


async def test_create_customer_with_unknown_timezone_is_422_and_writes_nothing(client):
    response = await client.post("/v1/customers", json={"external_id": "tz-1", "timezone": "Mars/Olympus_Mons"})
    error = expect_error(response, 422, "validation_error")
    assert error["param"] == "timezone"
    expect_error(await client.get("/v1/customers/tz-1"), 404, "not_found")


async def test_create_customer_with_negative_credit_limit_is_422(client):
    response = await client.post("/v1/customers", json={"external_id": "neg-1", "credit_limit": "-1"})
    assert expect_error(response, 422, "validation_error")["param"] == "credit_limit"


async def test_create_customer_with_invalid_email_is_422(client):
    response = await client.post("/v1/customers", json={"external_id": "mail-1", "email": "not-an-email"})
    assert expect_error(response, 422, "validation_error")["param"] == "email"


async def test_create_customer_with_unknown_field_is_422(client):
    response = await client.post("/v1/customers", json={"external_id": "x-1", "balance": "10"})
    error = expect_error(response, 422, "validation_error")
    assert error["param"] == "balance"
    assert "unknown field" in error["message"]


async def test_create_customer_without_external_id_is_422(client):
    assert expect_error(await client.post("/v1/customers", json={"name": "n"}), 422, "validation_error")["param"] == (
        "external_id"
    )


async def test_create_customer_with_duplicate_external_id_is_409_and_writes_nothing(client):
    first = await make_customer(client, external_id="dup-1")
    response = await client.post("/v1/customers", json={"external_id": "dup-1", "currency": "EUR"})
    error = expect_error(response, 409, "customer_exists")
    assert error["details"] == {"id": first["id"]}
    assert [c["id"] for c in await _all_customers(client)] == [first["id"]]
    assert [w["currency"] for w in ok(await client.get(f"/v1/customers/{first['id']}/wallets"))["data"]] == ["USD"]


async def test_create_customer_without_operator_key_is_401(client):
    response = await client.post("/v1/customers", json={"external_id": "anon"}, headers={"Authorization": ""})
    expect_error(response, 401, "unauthenticated")


# --- read -----------------------------------------------------------------------------------------


async def test_get_customer_by_id(client):
    created = await make_customer(client, name="By Id")
    assert ok(await client.get(f"/v1/customers/{created['id']}")) == created


async def test_get_customer_by_external_id(client):
    created = await make_customer(client, external_id="shop-42")
    assert ok(await client.get("/v1/customers/shop-42")) == created


async def test_get_unknown_customer_is_404(client):
    error = expect_error(await client.get("/v1/customers/cus_nobody"), 404, "not_found")
    assert error["param"] == "customer"


# --- list -----------------------------------------------------------------------------------------


async def test_list_customers_is_newest_first(client):
    ids = [(await make_customer(client))["id"] for _ in range(3)]
    page = ok(await client.get("/v1/customers"))
    assert page["object"] == "list"
    assert [c["id"] for c in page["data"]] == list(reversed(ids))
    assert page["has_more"] is False


async def test_list_customers_paginates_with_limit_and_starting_after(client):
    ids = [(await make_customer(client))["id"] for _ in range(5)]
    newest_first = list(reversed(ids))
    first = ok(await client.get("/v1/customers", params={"limit": 2}))
    assert [c["id"] for c in first["data"]] == newest_first[:2]
    assert first["has_more"] is True
    second = ok(await client.get("/v1/customers", params={"limit": 2, "starting_after": newest_first[1]}))
    assert [c["id"] for c in second["data"]] == newest_first[2:4]
    assert second["has_more"] is True
    third = ok(await client.get("/v1/customers", params={"limit": 2, "starting_after": newest_first[3]}))
    assert [c["id"] for c in third["data"]] == newest_first[4:]
    assert third["has_more"] is False


async def test_list_customers_with_exactly_limit_items_has_no_more(client):
    for _ in range(2):
        await make_customer(client)
    page = ok(await client.get("/v1/customers", params={"limit": 2}))
    assert len(page["data"]) == 2
    assert page["has_more"] is False


async def test_list_customers_rejects_limit_out_of_range(client):
    for limit in (0, 101):
        assert expect_error(await client.get("/v1/customers", params={"limit": limit}), 422, "validation_error")[
            "param"
        ] == "limit"


# --- update ---------------------------------------------------------------------------------------


async def test_patch_customer_changes_name_email_timezone_and_metadata(client, clock):
    created = await make_customer(client, name="Old", metadata={"a": "1"})
    clock.advance(seconds=60)
    body = ok(
        await client.patch(
            f"/v1/customers/{created['id']}",
            json={"name": "New", "email": "new@example.test", "timezone": "Europe/Paris", "metadata": {"b": "2"}},
        )
    )
    assert (body["name"], body["email"], body["timezone"], body["metadata"]) == (
        "New", "new@example.test", "Europe/Paris", {"b": "2"},
    )
    assert _at(body["updated_at"]) == clock.now()
    assert body["created_at"] == created["created_at"]
    assert ok(await client.get(f"/v1/customers/{created['id']}")) == body


async def test_patch_customer_leaves_unsent_fields_alone(client):
    created = await make_customer(client, name="Keep", email="keep@example.test", timezone="Asia/Tokyo")
    body = ok(await client.patch(f"/v1/customers/{created['id']}", json={"metadata": {"k": "v"}}))
    assert (body["name"], body["email"], body["timezone"]) == ("Keep", "keep@example.test", "Asia/Tokyo")
    assert body["metadata"] == {"k": "v"}


async def test_patch_customer_by_external_id(client):
    created = await make_customer(client, external_id="patch-me")
    body = ok(await client.patch("/v1/customers/patch-me", json={"name": "Patched"}))
    assert body["id"] == created["id"]
    assert body["name"] == "Patched"


async def test_patch_customer_with_unknown_field_is_422_and_changes_nothing(client):
    created = await make_customer(client, name="Same")
    response = await client.patch(f"/v1/customers/{created['id']}", json={"name": "Other", "currency": "EUR"})
    assert expect_error(response, 422, "validation_error")["param"] == "currency"
    assert ok(await client.get(f"/v1/customers/{created['id']}")) == created


async def test_patch_customer_with_unknown_timezone_is_422(client):
    created = await make_customer(client)
    response = await client.patch(f"/v1/customers/{created['id']}", json={"timezone": "Nowhere/Land"})
    assert expect_error(response, 422, "validation_error")["param"] == "timezone"


async def test_patch_customer_with_null_timezone_is_422_and_changes_nothing(client):
    created = await make_customer(client, timezone="Asia/Jakarta")
    response = await client.patch(f"/v1/customers/{created['id']}", json={"timezone": None})
    assert expect_error(response, 422, "validation_error")["param"] == "timezone"
    assert ok(await client.get(f"/v1/customers/{created['id']}"))["timezone"] == "Asia/Jakarta"


async def test_patch_customer_with_null_name_clears_it(client):
    created = await make_customer(client, name="Temporary")
    assert ok(await client.patch(f"/v1/customers/{created['id']}", json={"name": None}))["name"] is None


async def test_patch_unknown_customer_is_404(client):
    expect_error(await client.patch("/v1/customers/cus_nobody", json={"name": "x"}), 404, "not_found")
