"""Coupon endpoints: create, read, list, archive, validation, and the preview of a top-up."""

from __future__ import annotations

from tests.factories import customer_id, expect_error, ok


async def make_coupon(client, code: str = "SAVE10", **fields) -> dict:
    body = {"code": code, "kind": "percent_off", "value": "10", **fields}
    return ok(await client.post("/v1/coupons", json=body), 201)


async def test_a_coupon_is_created_read_by_id_or_code_listed_and_archived(client) -> None:
    coupon = await make_coupon(client, max_redemptions=5, metadata={"campaign": "launch"})
    assert {k: coupon[k] for k in ("object", "code", "kind", "value", "currency", "applies_to", "max_redemptions",
                                   "per_customer_limit", "times_redeemed", "status")} == {
        "object": "coupon", "code": "SAVE10", "kind": "percent_off", "value": "10", "currency": None,
        "applies_to": "topups", "max_redemptions": 5, "per_customer_limit": 1, "times_redeemed": 0,
        "status": "active",
    }
    assert ok(await client.get("/v1/coupons/save10"))["id"] == coupon["id"]
    assert [c["id"] for c in ok(await client.get("/v1/coupons"))["data"]] == [coupon["id"]]
    archived = ok(await client.post(f"/v1/coupons/{coupon['id']}/archive"))
    assert archived["status"] == "archived" and archived["archived_at"]
    expect_error(await client.post("/v1/coupons/SAVE10/archive"), 409, "conflict")
    assert ok(await client.get("/v1/coupons/SAVE10/redemptions"))["data"] == []


async def test_bad_coupons_are_refused(client) -> None:
    await make_coupon(client)
    expect_error(await client.post("/v1/coupons", json={"code": "save10", "kind": "percent_off", "value": "5"}),
                 409, "conflict")
    expect_error(await client.post("/v1/coupons", json={"code": "OFF", "kind": "amount_off", "value": "5"}),
                 422, "invalid_request")
    expect_error(await client.post("/v1/coupons", json={"code": "ALL", "kind": "percent_off", "value": "101"}),
                 422, "invalid_request")
    expect_error(await client.post("/v1/coupons", json={"code": "bad code", "kind": "percent_off", "value": "1"}),
                 422, "validation_error")
    expect_error(await client.get("/v1/coupons/NOPE"), 404, "not_found")


async def test_preview_prices_the_discount_before_tax_and_reserves_nothing(client) -> None:
    customer = await customer_id(client, currency="INR")
    await make_coupon(client)
    preview = ok(await client.post("/v1/coupons/SAVE10/preview",
                                   json={"customer": customer, "amount": "1000", "currency": "INR"}))
    # GST 18% on the 900 left; the credits (and the >= 1,000 bonus tier) follow the amount before the discount.
    assert {k: preview[k] for k in ("amount", "discount", "subtotal", "tax", "total", "credits", "bonus_credits")} == {
        "amount": "1000.00", "discount": "100.00", "subtotal": "900.00", "tax": "162.00", "total": "1062.00",
        "credits": "1000.00", "bonus_credits": "150.00",
    }
    assert ok(await client.get("/v1/coupons/SAVE10"))["times_redeemed"] == 0


async def test_preview_answers_each_coupon_error(client, clock) -> None:
    customer = await customer_id(client, currency="INR")
    body = {"customer": customer, "amount": "1000", "currency": "INR"}
    expect_error(await client.post("/v1/coupons/NOPE/preview", json=body), 422, "coupon_invalid")
    await make_coupon(client, "OLD", valid_until="2000-01-01T00:00:00Z")
    expect_error(await client.post("/v1/coupons/OLD/preview", json=body), 422, "coupon_expired")
    await make_coupon(client, "SUBS", applies_to="subscriptions")
    expect_error(await client.post("/v1/coupons/SUBS/preview", json=body), 422, "coupon_not_applicable")
    await make_coupon(client, "BIG", min_amount="2000", currency="INR")
    expect_error(await client.post("/v1/coupons/BIG/preview", json=body), 422, "coupon_not_applicable")
    await make_coupon(client, "USD5", kind="amount_off", value="5", currency="USD")
    expect_error(await client.post("/v1/coupons/USD5/preview", json=body), 422, "coupon_not_applicable")
    await make_coupon(client, "FREE", value="100")
    expect_error(await client.post("/v1/coupons/FREE/preview", json=body), 422, "coupon_not_applicable")
    other = await customer_id(client, currency="INR")
    await make_coupon(client, "VIP", customers=[other])
    expect_error(await client.post("/v1/coupons/VIP/preview", json=body), 422, "coupon_not_applicable")
