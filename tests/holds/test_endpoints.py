"""HTTP hold endpoints: reserve, capture (once or streamed), void, expiry, read and list."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx

from tests.factories import balance, debit, expect_error, grant, hold, make_customer, ok, wallet

SEVEN_DAYS = 7 * 24 * 3600


async def _customer_with(client: httpx.AsyncClient, amount: str, **grant_fields: Any) -> str:
    customer = (await make_customer(client))["id"]
    await grant(client, customer, amount, **grant_fields)
    return customer


async def _hold(client: httpx.AsyncClient, customer: str, amount: str, **fields: Any) -> dict[str, Any]:
    return ok(await hold(client, customer, amount, **fields), 201)


async def _capture(client: httpx.AsyncClient, hold_id: str, status: int = 200, **body: Any) -> httpx.Response:
    response = await client.post(f"/v1/holds/{hold_id}/capture", json=body)
    assert response.status_code == status, response.text
    return response


async def _get_hold(client: httpx.AsyncClient, hold_id: str) -> dict[str, Any]:
    return ok(await client.get(f"/v1/holds/{hold_id}"))


async def _transactions(client: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
    return ok(await client.get("/v1/transactions", params={"customer": customer, "limit": 100}))["data"]


def _lot_held(w: dict[str, Any]) -> dict[str, str]:
    return {lot["id"]: lot["held"] for lot in w["lots"]}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _breakage_total(client: httpx.AsyncClient, customer: str) -> Decimal:
    return sum(
        (
            Decimal(t["amount"])
            for op in await _transactions(client, customer)
            for t in op["transfers"]
            if t["to"].startswith("sys_breakage_")
        ),
        Decimal(0),
    )


# --- create ---------------------------------------------------------------------------------------


async def test_create_hold_returns_an_active_hold_with_nothing_captured(client, clock):
    customer = await _customer_with(client, "10.00")
    body = await _hold(client, customer, "4.00")
    assert body["id"].startswith("hld_")
    assert body["status"] == "active"
    assert body["amount"] == "4.00"
    assert Decimal(body["captured"]) == 0
    assert body["reserved"] == "4.00"
    assert body["customer"] == customer
    assert _at(body["expires_at"]) == clock.now() + timedelta(seconds=600)


async def test_create_hold_reserves_the_amount_on_the_wallet(client):
    customer = await _customer_with(client, "10.00")
    await _hold(client, customer, "4.00")
    assert balance(await wallet(client, customer)) == ("10.00", "4.00", "6.00")


async def test_create_hold_beyond_available_is_402_and_writes_nothing(client):
    customer = await _customer_with(client, "3.00")
    before = await _transactions(client, customer)
    expect_error(await hold(client, customer, "3.01"), 402, "insufficient_funds")
    assert balance(await wallet(client, customer)) == ("3.00", "0.00", "3.00")
    assert ok(await client.get("/v1/holds", params={"customer": customer}))["data"] == []
    assert await _transactions(client, customer) == before


async def test_create_hold_expires_in_sets_the_expiry(client, clock):
    customer = await _customer_with(client, "10.00")
    body = await _hold(client, customer, "1.00", expires_in=3600)
    assert _at(body["expires_at"]) == clock.now() + timedelta(hours=1)


async def test_create_hold_accepts_seven_days(client, clock):
    customer = await _customer_with(client, "10.00")
    body = await _hold(client, customer, "1.00", expires_in=SEVEN_DAYS)
    assert _at(body["expires_at"]) == clock.now() + timedelta(days=7)


async def test_create_hold_over_seven_days_is_422_and_writes_nothing(client):
    customer = await _customer_with(client, "10.00")
    error = expect_error(await hold(client, customer, "1.00", expires_in=SEVEN_DAYS + 1), 422, "validation_error")
    assert error["param"] == "expires_in"
    assert balance(await wallet(client, customer)) == ("10.00", "0.00", "10.00")


async def test_create_hold_reserves_on_specific_lots_in_draw_order(client):
    customer = (await make_customer(client))["id"]
    late = await grant(client, customer, "5.00", priority=50)
    first = await grant(client, customer, "3.00", priority=10)
    untouched = await grant(client, customer, "5.00", priority=90)
    await _hold(client, customer, "4.00")
    w = await wallet(client, customer)
    assert _lot_held(w) == {first["id"]: "3.00", late["id"]: "1.00", untouched["id"]: "0.00"}
    assert balance(w) == ("13.00", "4.00", "9.00")


async def test_a_held_amount_cannot_be_spent_by_a_debit(client):
    customer = await _customer_with(client, "10.00")
    await _hold(client, customer, "8.00")
    expect_error(await debit(client, customer, "2.01"), 402, "insufficient_funds")
    assert ok(await debit(client, customer, "2.00"), 201)["wallet"]["available"] == "0.00"


# --- read -----------------------------------------------------------------------------------------


async def test_get_hold_returns_it(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "2.50", description="gpu job", metadata={"job": "42"})
    assert await _get_hold(client, created["id"]) == created


async def test_get_unknown_hold_is_404(client):
    expect_error(await client.get("/v1/holds/hld_missing"), 404, "not_found")


async def test_list_holds_filters_by_customer_newest_first(client):
    alice = await _customer_with(client, "10.00")
    bob = await _customer_with(client, "10.00")
    first = await _hold(client, alice, "1.00")
    await _hold(client, bob, "1.00")
    second = await _hold(client, alice, "2.00")
    page = ok(await client.get("/v1/holds", params={"customer": alice}))
    assert [h["id"] for h in page["data"]] == [second["id"], first["id"]]
    assert page["has_more"] is False


async def test_list_holds_filters_by_status(client):
    customer = await _customer_with(client, "10.00")
    active = await _hold(client, customer, "1.00")
    voided = await _hold(client, customer, "1.00")
    captured = await _hold(client, customer, "1.00")
    ok(await client.post(f"/v1/holds/{voided['id']}/void"))
    await _capture(client, captured["id"])
    for status, expected in (("active", active), ("voided", voided), ("captured", captured)):
        page = ok(await client.get("/v1/holds", params={"customer": customer, "status": status}))
        assert [h["id"] for h in page["data"]] == [expected["id"]], status


# --- capture --------------------------------------------------------------------------------------


async def test_capture_without_amount_captures_what_is_left(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00")
    await _capture(client, created["id"], amount="1.50", final=False)
    body = (await _capture(client, created["id"])).json()
    assert body["amount"] == "2.50"
    assert body["hold"]["status"] == "captured"
    assert body["hold"]["captured"] == "4.00"
    assert body["hold"]["reserved"] == "0.00"
    assert body["wallet"] == {"posted": "6.00", "held": "0.00", "available": "6.00"}


async def test_non_final_captures_repeat_until_a_final_one(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "5.00")
    for expected_captured in ("1.00", "2.00", "3.00"):
        body = (await _capture(client, created["id"], amount="1.00", final=False)).json()
        assert body["hold"]["status"] == "active"
        assert body["hold"]["captured"] == expected_captured
    assert balance(await wallet(client, customer)) == ("7.00", "2.00", "5.00")
    body = (await _capture(client, created["id"], amount="0.50")).json()
    assert body["hold"]["status"] == "captured"
    assert body["hold"]["captured"] == "3.50"
    assert balance(await wallet(client, customer)) == ("6.50", "0.00", "6.50")


async def test_capture_within_the_hold_succeeds_when_the_rest_of_the_wallet_is_empty(client):
    customer = await _customer_with(client, "5.00")
    created = await _hold(client, customer, "5.00")
    expect_error(await debit(client, customer, "0.01"), 402, "insufficient_funds")
    await _capture(client, created["id"], amount="3.00", final=False)
    body = (await _capture(client, created["id"], amount="2.00")).json()
    assert body["hold"]["captured"] == "5.00"
    assert body["wallet"] == {"posted": "0.00", "held": "0.00", "available": "0.00"}


async def test_capture_consumes_the_reserved_lots_not_the_draw_order_at_capture_time(client):
    customer = (await make_customer(client))["id"]
    reserved_lot = await grant(client, customer, "5.00", priority=50)
    created = await _hold(client, customer, "5.00")
    newer_first_lot = await grant(client, customer, "5.00", priority=1)
    await _capture(client, created["id"], amount="5.00")
    remaining = {lot["id"]: lot["remaining"] for lot in (await wallet(client, customer))["lots"]}
    assert remaining.get(reserved_lot["id"], "0.00") == "0.00"
    assert remaining[newer_first_lot["id"]] == "5.00"


async def test_capture_beyond_the_hold_draws_the_excess_like_a_debit(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00")
    body = (await _capture(client, created["id"], amount="6.00")).json()
    assert body["amount"] == "6.00"
    assert body["hold"]["captured"] == "6.00"
    assert body["hold"]["status"] == "captured"
    assert body["wallet"] == {"posted": "4.00", "held": "0.00", "available": "4.00"}


async def test_capture_beyond_the_hold_without_funds_is_402_and_changes_nothing(client):
    customer = await _customer_with(client, "5.00")
    created = await _hold(client, customer, "4.00")
    ok(await debit(client, customer, "1.00"), 201)
    before = await _transactions(client, customer)
    expect_error(
        await client.post(f"/v1/holds/{created['id']}/capture", json={"amount": "4.01"}), 402, "insufficient_funds"
    )
    after = await _get_hold(client, created["id"])
    assert (after["status"], after["captured"], after["reserved"]) == ("active", "0.00", "4.00")
    assert balance(await wallet(client, customer)) == ("4.00", "4.00", "0.00")
    assert await _transactions(client, customer) == before
    assert (await _capture(client, created["id"])).json()["hold"]["captured"] == "4.00"


async def test_final_capture_releases_the_rest(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "5.00")
    body = (await _capture(client, created["id"], amount="2.00")).json()
    assert (body["hold"]["status"], body["hold"]["captured"], body["hold"]["reserved"]) == ("captured", "2.00", "0.00")
    assert body["wallet"] == {"posted": "8.00", "held": "0.00", "available": "8.00"}


async def test_capture_after_a_final_capture_is_409_hold_not_active(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "5.00")
    await _capture(client, created["id"], amount="2.00")
    expect_error(await client.post(f"/v1/holds/{created['id']}/capture", json={}), 409, "hold_not_active")
    assert balance(await wallet(client, customer)) == ("8.00", "0.00", "8.00")


async def test_capture_of_unknown_hold_is_404(client):
    expect_error(await client.post("/v1/holds/hld_missing/capture", json={}), 404, "not_found")


# --- void -----------------------------------------------------------------------------------------


async def test_void_releases_what_the_hold_reserves(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "5.00")
    await _capture(client, created["id"], amount="1.00", final=False)
    body = ok(await client.post(f"/v1/holds/{created['id']}/void"))
    assert (body["status"], body["captured"], body["reserved"]) == ("voided", "1.00", "0.00")
    assert balance(await wallet(client, customer)) == ("9.00", "0.00", "9.00")


async def test_void_of_a_voided_hold_is_409_hold_not_active(client):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "5.00")
    ok(await client.post(f"/v1/holds/{created['id']}/void"))
    expect_error(await client.post(f"/v1/holds/{created['id']}/void"), 409, "hold_not_active")
    expect_error(await client.post(f"/v1/holds/{created['id']}/capture", json={}), 409, "hold_not_active")


# --- expiry ---------------------------------------------------------------------------------------


async def test_an_expired_hold_reserves_nothing(client, clock):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "10.00", expires_in=60)
    clock.advance(seconds=61)
    assert balance(await wallet(client, customer)) == ("10.00", "0.00", "10.00")
    assert (await _get_hold(client, created["id"]))["status"] == "expired"
    await _hold(client, customer, "10.00")


async def test_capture_after_expires_at_is_409_hold_expired(client, clock):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00", expires_in=60)
    clock.advance(seconds=61)
    expect_error(await client.post(f"/v1/holds/{created['id']}/capture", json={}), 409, "hold_expired")
    assert balance(await wallet(client, customer)) == ("10.00", "0.00", "10.00")


async def test_capture_just_before_expires_at_succeeds(client, clock):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00", expires_in=60)
    clock.advance(seconds=59)
    assert (await _capture(client, created["id"])).json()["hold"]["captured"] == "4.00"


async def test_void_after_expires_at_is_409_hold_expired(client, clock):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00", expires_in=60)
    clock.advance(seconds=61)
    expect_error(await client.post(f"/v1/holds/{created['id']}/void"), 409, "hold_expired")


async def test_void_of_a_hold_on_an_expired_lot_sends_the_released_part_to_breakage(client, clock):
    customer = (await make_customer(client))["id"]
    lot = await grant(client, customer, "10.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    created = await _hold(client, customer, "6.00", expires_in=7200)
    clock.advance(hours=1, seconds=1)
    assert balance(await wallet(client, customer)) == ("6.00", "6.00", "0.00")
    assert await _breakage_total(client, customer) == Decimal("4.00")
    ok(await client.post(f"/v1/holds/{created['id']}/void"))
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")
    assert await _breakage_total(client, customer) == Decimal("10.00")
    assert ok(await client.get(f"/v1/credit_grants/{lot['id']}"))["remaining"] == "0.00"


async def test_final_capture_on_an_expired_lot_sends_the_released_part_to_breakage(client, clock):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    created = await _hold(client, customer, "6.00", expires_in=7200)
    clock.advance(hours=1, seconds=1)
    body = (await _capture(client, created["id"], amount="2.00")).json()
    assert body["amount"] == "2.00"
    assert body["breakage"] == "4.00"
    assert body["wallet"] == {"posted": "0.00", "held": "0.00", "available": "0.00"}
    assert await _breakage_total(client, customer) == Decimal("8.00")


async def test_an_expired_hold_on_an_expired_lot_sends_its_reservation_to_breakage(client, clock):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "10.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    created = await _hold(client, customer, "6.00", expires_in=7200)
    clock.advance(hours=2, seconds=1)
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")
    assert (await _get_hold(client, created["id"]))["status"] == "expired"
    assert await _breakage_total(client, customer) == Decimal("10.00")


async def test_get_hold_after_expires_at_shows_it_expired_and_reserving_nothing(client, clock):
    customer = await _customer_with(client, "10.00")
    created = await _hold(client, customer, "4.00", expires_in=60)
    clock.advance(seconds=61)
    body = await _get_hold(client, created["id"])
    assert (body["status"], body["reserved"]) == ("expired", "0.00")


async def test_list_active_holds_leaves_out_holds_past_expires_at(client, clock):
    customer = await _customer_with(client, "10.00")
    await _hold(client, customer, "4.00", expires_in=60)
    clock.advance(seconds=61)
    page = ok(await client.get("/v1/holds", params={"customer": customer, "status": "active"}))
    assert page["data"] == []
