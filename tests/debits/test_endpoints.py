"""HTTP debit endpoints: spend in draw order, refuse without funds, read back, refund."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import httpx

from tests.factories import balance, customer_id, debit, expect_error, grant, make_customer, ok, wallet


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _drawn(body: dict[str, Any]) -> list[tuple[str | None, str]]:
    return [(d["grant"], d["amount"]) for d in body["drawn"]]


def _lots(w: dict[str, Any]) -> dict[str, str]:
    return {lot["id"]: lot["remaining"] for lot in w["lots"]}


async def _debit(client: httpx.AsyncClient, customer: str, amount: Any, **fields: Any) -> dict[str, Any]:
    return ok(await debit(client, customer, amount, **fields), 201)


async def _refund(client: httpx.AsyncClient, debit_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/v1/debits/{debit_id}/refund", json=body)


async def _transactions(client: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
    return ok(await client.get("/v1/transactions", params={"customer": customer, "limit": 100}))["data"]


def _in(clock, **delta: float) -> str:
    return (clock.now() + timedelta(**delta)).isoformat()


# --- debit ----------------------------------------------------------------------------------------


async def test_debit_returns_201_with_what_it_drew_and_the_new_balance(client, clock):
    customer = await customer_id(client)
    lot = await grant(client, customer, "10.00")
    body = await _debit(client, customer, "3.50", description="api calls", metadata={"job": "7"})
    assert body["object"] == "debit"
    assert body["id"].startswith("op_")
    assert (body["customer"], body["currency"], body["amount"], body["refunded"]) == (customer, "USD", "3.50", "0.00")
    assert body["drawn"] == [{"grant": lot["id"], "source": "grant", "amount": "3.50"}]
    assert body["wallet"] == {"posted": "6.50", "held": "0.00", "available": "6.50"}
    assert (body["description"], body["metadata"]) == ("api calls", {"job": "7"})
    assert _at(body["created_at"]) == clock.now()
    assert balance(await wallet(client, customer)) == ("6.50", "0.00", "6.50")


async def test_debit_by_external_id(client):
    created = await make_customer(client, external_id="debit-ext")
    await grant(client, "debit-ext", "1.00")
    assert (await _debit(client, "debit-ext", "1.00"))["customer"] == created["id"]


async def test_debit_of_the_whole_balance_leaves_zero(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    assert (await _debit(client, customer, "10"))["wallet"] == {"posted": "0.00", "held": "0.00", "available": "0.00"}


async def test_debit_beyond_balance_is_402_and_writes_nothing(client):
    customer = await customer_id(client)
    lot = await grant(client, customer, "5.00")
    before = await _transactions(client, customer)
    error = expect_error(await debit(client, customer, "5.01"), 402, "insufficient_funds")
    assert error["details"] == {"available": "5.00", "currency": "USD"}
    w = await wallet(client, customer)
    assert balance(w) == ("5.00", "0.00", "5.00")
    assert _lots(w) == {lot["id"]: "5.00"}
    assert await _transactions(client, customer) == before


async def test_debit_from_an_empty_wallet_is_402(client):
    customer = await customer_id(client)
    expect_error(await debit(client, customer, "0.000001"), 402, "insufficient_funds")
    assert await _transactions(client, customer) == []


async def test_debit_for_unknown_customer_is_404(client):
    assert expect_error(await debit(client, "cus_nobody", "1"), 404, "not_found")["param"] == "customer"


async def test_debit_in_a_currency_the_customer_lacks_is_422(client):
    customer = await customer_id(client)
    await grant(client, customer, "5.00")
    expect_error(await debit(client, customer, "1", currency="EUR"), 422, "wallet_not_found")
    assert balance(await wallet(client, customer)) == ("5.00", "0.00", "5.00")


async def test_debit_rejects_zero_negative_overprecise_and_float_amounts(client):
    customer = await customer_id(client)
    await grant(client, customer, "5.00")
    for amount in ("0", "-1.00", "0.0000001", "1e2", True):
        assert expect_error(await debit(client, customer, amount), 422, "validation_error")["param"] == "amount", amount
    assert balance(await wallet(client, customer)) == ("5.00", "0.00", "5.00")


async def test_debit_with_unknown_field_is_422(client):
    customer = await customer_id(client)
    await grant(client, customer, "5.00")
    response = await client.post("/v1/debits", json={"customer": customer, "amount": "1", "grant": "grt_x"})
    assert expect_error(response, 422, "validation_error")["param"] == "grant"


async def test_debit_of_one_micro_unit_is_exact(client):
    customer = await customer_id(client)
    lot = await grant(client, customer, "1")
    body = await _debit(client, customer, "0.000001")
    assert body["amount"] == "0.000001"
    assert _drawn(body) == [(lot["id"], "0.000001")]
    assert body["wallet"]["posted"] == "0.999999"
    assert _lots(await wallet(client, customer)) == {lot["id"]: "0.999999"}


async def test_debit_amounts_sent_as_json_numbers_are_exact(client):
    customer = await customer_id(client)
    await grant(client, customer, "0.3")
    for _ in range(3):
        await _debit(client, customer, 0.1)
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")


async def test_debit_from_a_credits_wallet(client):
    customer = await customer_id(client)
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    await grant(client, customer, "100", currency="CREDITS")
    body = await _debit(client, customer, "0.5", currency="credits")
    assert (body["currency"], body["amount"]) == ("CREDITS", "0.5")
    assert body["wallet"]["posted"] == "99.5"


# --- draw order -----------------------------------------------------------------------------------


async def test_debit_draws_lower_priority_number_first(client):
    customer = await customer_id(client)
    default = await grant(client, customer, "5.00")
    urgent = await grant(client, customer, "5.00", priority=10)
    assert _drawn(await _debit(client, customer, "1.00")) == [(urgent["id"], "1.00")]
    assert _lots(await wallet(client, customer)) == {urgent["id"]: "4.00", default["id"]: "5.00"}


async def test_debit_draws_soonest_expiry_first_and_no_expiry_last(client, clock):
    customer = await customer_id(client)
    never = await grant(client, customer, "1.00")
    later = await grant(client, customer, "1.00", expires_at=_in(clock, days=10))
    soon = await grant(client, customer, "1.00", expires_at=_in(clock, days=2))
    body = await _debit(client, customer, "3.00")
    assert _drawn(body) == [(soon["id"], "1.00"), (later["id"], "1.00"), (never["id"], "1.00")]


async def test_debit_compares_expiries_given_in_other_time_zones_as_instants(client, clock):
    customer = await customer_id(client)
    plus_seven = timezone(timedelta(hours=7))
    utc_later = await grant(client, customer, "1.00", expires_at=(clock.now() + timedelta(hours=23)).isoformat())
    jakarta_sooner = await grant(
        client, customer, "1.00", expires_at=(clock.now() + timedelta(hours=22)).astimezone(plus_seven).isoformat()
    )
    body = await _debit(client, customer, "2.00")
    assert _drawn(body) == [(jakarta_sooner["id"], "1.00"), (utc_later["id"], "1.00")]


async def test_debit_draws_the_oldest_lot_first_at_equal_priority_and_expiry(client, clock):
    customer = await customer_id(client)
    start = clock.now()
    newer = await grant(client, customer, "1.00")
    clock.set(start - timedelta(days=1))
    older = await grant(client, customer, "1.00")
    clock.set(start)
    assert _drawn(await _debit(client, customer, "1.50")) == [(older["id"], "1.00"), (newer["id"], "0.50")]


async def test_debit_breaks_ties_by_grant_id(client):
    customer = await customer_id(client)
    lots = [await grant(client, customer, "1.00") for _ in range(3)]
    first_id, second_id, third_id = sorted(lot["id"] for lot in lots)
    body = await _debit(client, customer, "2.50")
    assert _drawn(body) == [(first_id, "1.00"), (second_id, "1.00"), (third_id, "0.50")]


async def test_one_debit_spans_several_lots_in_draw_order(client, clock):
    customer = await customer_id(client)
    c = await grant(client, customer, "4.00")
    b = await grant(client, customer, "3.00", expires_at=_in(clock, days=5))
    a = await grant(client, customer, "2.00", category="promotional", priority=1)
    body = await _debit(client, customer, "7.50")
    assert _drawn(body) == [(a["id"], "2.00"), (b["id"], "3.00"), (c["id"], "2.50")]
    assert body["wallet"]["posted"] == "1.50"
    w = await wallet(client, customer)
    assert _lots(w) == {a["id"]: "0.00", b["id"]: "0.00", c["id"]: "1.50"}


async def test_debit_never_draws_an_expired_lot(client, clock):
    customer = await customer_id(client)
    expiring = await grant(client, customer, "5.00", priority=1, expires_at=_in(clock, hours=1))
    lasting = await grant(client, customer, "2.00")
    clock.advance(hours=1)
    assert _drawn(await _debit(client, customer, "1.50")) == [(lasting["id"], "1.50")]
    expect_error(await debit(client, customer, "0.51"), 402, "insufficient_funds")
    assert ok(await client.get(f"/v1/credit_grants/{expiring['id']}"))["remaining"] == "0.00"
    assert balance(await wallet(client, customer)) == ("0.50", "0.00", "0.50")


async def test_debit_draws_a_lot_until_the_instant_it_expires(client, clock):
    customer = await customer_id(client)
    expiring = await grant(client, customer, "5.00", expires_at=_in(clock, hours=1))
    clock.advance(minutes=59, seconds=59)
    assert _drawn(await _debit(client, customer, "5.00")) == [(expiring["id"], "5.00")]


# --- read -----------------------------------------------------------------------------------------


async def test_get_debit_returns_the_debit(client):
    customer = await customer_id(client)
    first = await grant(client, customer, "1.00", priority=1)
    second = await grant(client, customer, "5.00")
    created = await _debit(client, customer, "2.00", metadata={"k": "v"})
    body = ok(await client.get(f"/v1/debits/{created['id']}"))
    assert body == created
    assert _drawn(body) == [(first["id"], "1.00"), (second["id"], "1.00")]


async def test_get_debit_shows_the_refunded_amount(client):
    customer = await customer_id(client)
    await grant(client, customer, "5.00")
    created = await _debit(client, customer, "2.00")
    ok(await _refund(client, created["id"], amount="0.75"), 201)
    body = ok(await client.get(f"/v1/debits/{created['id']}"))
    assert (body["amount"], body["refunded"]) == ("2.00", "0.75")


async def test_get_debit_shows_the_current_wallet_without_expired_credits(client, clock):
    customer = await customer_id(client)
    await grant(client, customer, "5.00", expires_at=_in(clock, hours=1))
    await grant(client, customer, "2.00")
    created = await _debit(client, customer, "1.00")
    clock.advance(hours=2)
    body = ok(await client.get(f"/v1/debits/{created['id']}"))
    assert body["wallet"] == {"posted": "2.00", "held": "0.00", "available": "2.00"}


async def test_get_unknown_debit_is_404(client):
    expect_error(await client.get("/v1/debits/op_nothing"), 404, "not_found")


async def test_get_debit_with_the_id_of_another_operation_is_404(client):
    customer = await customer_id(client)
    await grant(client, customer, "5.00")
    grant_operation = (await _transactions(client, customer))[0]["id"]
    expect_error(await client.get(f"/v1/debits/{grant_operation}"), 404, "not_found")


# --- refund ---------------------------------------------------------------------------------------


async def test_full_refund_returns_everything_to_the_lot(client, clock):
    customer = await customer_id(client)
    lot = await grant(client, customer, "10.00")
    created = await _debit(client, customer, "4.00")
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert body["object"] == "refund"
    assert body["id"].startswith("op_")
    assert (body["debit"], body["currency"], body["amount"], body["breakage"]) == (
        created["id"], "USD", "4.00", "0.00",
    )
    assert body["returned"] == [{"grant": lot["id"], "source": "grant", "amount": "4.00", "breakage": "0.00"}]
    assert body["wallet"] == {"posted": "10.00", "held": "0.00", "available": "10.00"}
    assert _at(body["created_at"]) == clock.now()
    assert _lots(await wallet(client, customer)) == {lot["id"]: "10.00"}


async def test_partial_refund_returns_that_amount(client):
    customer = await customer_id(client)
    lot = await grant(client, customer, "10.00")
    created = await _debit(client, customer, "4.00")
    body = ok(await _refund(client, created["id"], amount="1.25"), 201)
    assert body["amount"] == "1.25"
    assert body["wallet"]["posted"] == "7.25"
    assert _lots(await wallet(client, customer)) == {lot["id"]: "7.25"}


async def test_repeated_partial_refunds_stop_at_the_debit_amount(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    created = await _debit(client, customer, "5.00")
    for _ in range(2):
        ok(await _refund(client, created["id"], amount="2.00"), 201)
    error = expect_error(await _refund(client, created["id"], amount="2.00"), 409, "refund_exceeds_debit")
    assert error["details"] == {"refundable": "1.00", "currency": "USD"}
    ok(await _refund(client, created["id"], amount="1.00"), 201)
    error = expect_error(await _refund(client, created["id"], amount="0.000001"), 409, "refund_exceeds_debit")
    assert error["details"]["refundable"] == "0.00"
    assert balance(await wallet(client, customer)) == ("10.00", "0.00", "10.00")


async def test_full_refund_after_a_partial_one_returns_the_rest(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    created = await _debit(client, customer, "5.00")
    ok(await _refund(client, created["id"], amount="1.50"), 201)
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert body["amount"] == "3.50"
    expect_error(await client.post(f"/v1/debits/{created['id']}/refund"), 409, "refund_exceeds_debit")


async def test_refund_larger_than_the_debit_is_409_and_writes_nothing(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    created = await _debit(client, customer, "5.00")
    before = await _transactions(client, customer)
    error = expect_error(await _refund(client, created["id"], amount="5.01"), 409, "refund_exceeds_debit")
    assert error["details"] == {"refundable": "5.00", "currency": "USD"}
    assert await _transactions(client, customer) == before
    assert balance(await wallet(client, customer)) == ("5.00", "0.00", "5.00")


async def test_refund_of_zero_is_422(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    created = await _debit(client, customer, "5.00")
    assert expect_error(await _refund(client, created["id"], amount="0"), 422, "validation_error")["param"] == "amount"


async def test_refund_of_unknown_debit_is_404(client):
    expect_error(await _refund(client, "op_nothing"), 404, "not_found")


async def test_refund_returns_each_share_to_the_lot_it_came_from(client):
    customer = await customer_id(client)
    first = await grant(client, customer, "3.00", priority=1)
    second = await grant(client, customer, "5.00")
    created = await _debit(client, customer, "5.00")
    later = await _debit(client, customer, "1.00")
    assert _drawn(later) == [(second["id"], "1.00")]
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert sorted((r["grant"], r["amount"]) for r in body["returned"]) == sorted(
        [(first["id"], "3.00"), (second["id"], "2.00")]
    )
    assert _lots(await wallet(client, customer)) == {first["id"]: "3.00", second["id"]: "4.00"}


async def test_partial_refund_returns_to_the_last_drawn_lot_first(client):
    customer = await customer_id(client)
    first = await grant(client, customer, "3.00", priority=1)
    second = await grant(client, customer, "5.00")
    created = await _debit(client, customer, "5.00")
    body = ok(await _refund(client, created["id"], amount="2.50"), 201)
    assert [(r["grant"], r["amount"]) for r in body["returned"]] == [(second["id"], "2.00"), (first["id"], "0.50")]
    assert _lots(await wallet(client, customer)) == {first["id"]: "0.50", second["id"]: "5.00"}


async def test_refund_to_an_expired_lot_goes_to_breakage(client, clock):
    customer = await customer_id(client)
    lot = await grant(client, customer, "5.00", expires_at=_in(clock, hours=1))
    created = await _debit(client, customer, "3.00")
    clock.advance(hours=2)
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert (body["amount"], body["breakage"]) == ("3.00", "3.00")
    assert body["returned"] == [{"grant": lot["id"], "source": "grant", "amount": "3.00", "breakage": "3.00"}]
    assert body["wallet"] == {"posted": "0.00", "held": "0.00", "available": "0.00"}
    expect_error(await debit(client, customer, "0.01"), 402, "insufficient_funds")
    latest = (await _transactions(client, customer))[0]
    assert [(t["from"], t["to"], t["amount"], t["kind"]) for t in latest["transfers"]] == [
        ("sys_revenue_USD", lot["id"], "3.00", "refund"), (lot["id"], "sys_breakage_USD", "3.00", "breakage"),
    ]


async def test_refund_to_a_voided_lot_goes_to_breakage(client):
    customer = await customer_id(client)
    lot = await grant(client, customer, "5.00")
    created = await _debit(client, customer, "3.00")
    ok(await client.post(f"/v1/credit_grants/{lot['id']}/void"))
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert (body["amount"], body["breakage"]) == ("3.00", "3.00")
    assert body["returned"][0]["breakage"] == "3.00"
    assert balance(await wallet(client, customer)) == ("0.00", "0.00", "0.00")
    assert ok(await client.get(f"/v1/credit_grants/{lot['id']}"))["remaining"] == "0.00"


async def test_refund_splits_between_a_live_lot_and_an_expired_one(client, clock):
    customer = await customer_id(client)
    expiring = await grant(client, customer, "2.00", expires_at=_in(clock, days=1))
    lasting = await grant(client, customer, "5.00")
    created = await _debit(client, customer, "4.00")
    assert _drawn(created) == [(expiring["id"], "2.00"), (lasting["id"], "2.00")]
    clock.advance(days=2)
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert (body["amount"], body["breakage"]) == ("4.00", "2.00")
    assert sorted((r["grant"], r["amount"], r["breakage"]) for r in body["returned"]) == sorted(
        [(expiring["id"], "2.00", "2.00"), (lasting["id"], "2.00", "0.00")]
    )
    assert body["wallet"] == {"posted": "5.00", "held": "0.00", "available": "5.00"}
    assert _lots(await wallet(client, customer)) == {lasting["id"]: "5.00"}


async def test_refund_of_an_overdraft_debit_repays_the_overdraft(client):
    customer = await customer_id(client, credit_limit="10")
    lot = await grant(client, customer, "2.00")
    created = await _debit(client, customer, "6.00")
    assert created["wallet"]["posted"] == "-4.00"
    body = ok(await client.post(f"/v1/debits/{created['id']}/refund"), 201)
    assert sorted(((r["grant"] or ""), r["source"], r["amount"]) for r in body["returned"]) == sorted(
        [(lot["id"], "grant", "2.00"), ("", "overdraft", "4.00")]
    )
    assert body["wallet"] == {"posted": "2.00", "held": "0.00", "available": "12.00"}
