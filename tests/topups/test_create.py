"""POST /v1/topups: a priced, pending order with each gateway's checkout; refusals before any order exists;
a gateway that fails leaves a failed top-up (never a pending one nobody can pay) and a clear 502/503."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import customer_id, expect_error, ok, usage_client
from tests.payments.fakes import razorpay_server
from tests.topups.support import open_topup, topup


async def test_sandbox_checkout_is_a_page_on_this_server(client) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "sandbox", amount="1000", currency="INR",
                              return_url="https://shop.example/done")
    assert {k: opened[k] for k in ("status", "gateway", "currency", "amount", "subtotal", "tax", "total", "credits",
                                   "bonus_credits", "currency_of_credits", "invoice", "grants", "needs_review")} == {
        "status": "pending", "gateway": "sandbox", "currency": "INR", "amount": "1000.00", "subtotal": "1000.00",
        "tax": "180.00", "total": "1180.00", "credits": "1000.00", "bonus_credits": "150.00",
        "currency_of_credits": "INR", "invoice": None, "grants": None, "needs_review": False,
    }
    assert opened["tax_details"] == {"name": "GST", "rate_percent": "18", "inclusive": False}
    assert opened["checkout_url"].startswith(f"http://creditflow.test/sandbox/checkout/{opened['id']}?token=")
    assert opened["token"] and opened["gateway_reference"] == opened["id"]
    assert opened["expires_at"] == "2026-03-02T10:00:00Z"


async def test_stripe_checkout_session_carries_the_topup_id(client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    session = fakes.stripe.sessions[opened["gateway_reference"]]
    assert (session["client_reference_id"], session["amount_total"], session["currency"]) == (
        opened["id"], 1250, "usd"
    )
    assert opened["checkout_url"] == session["url"]
    # No rule for USD: no limits, no tax, credits in USD.
    assert (opened["tax"], opened["total"], opened["tax_details"]) == ("0.00", "12.50", None)
    assert opened["credits"] == "12.50"


async def test_razorpay_order_is_opened_with_checkout_js_details(client, fakes) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "razorpay", amount="500", currency="INR")
    order = fakes.razorpay.orders[opened["gateway_reference"]]
    assert (order["receipt"], order["amount"], order["currency"]) == (opened["id"], 59000, "INR")
    assert (opened["checkout_url"], opened["publishable_key"]) == (None, razorpay_server.KEY_ID)


async def test_midtrans_snap_is_opened_in_whole_rupiah(client, fakes) -> None:
    customer = await customer_id(client, currency="IDR")
    opened = await open_topup(client, customer, "midtrans", amount="10005", currency="IDR")
    assert (opened["tax"], opened["total"]) == ("1101.00", "11106.00")
    snap = fakes.midtrans.snaps[opened["id"]]
    assert (snap["gross"], snap["token"]) == (11106, opened["token"])
    assert opened["gateway_reference"] == opened["id"] and opened["publishable_key"]


@pytest.mark.parametrize(
    ("currency", "amount", "limit", "bound"),
    [("IDR", "9999", "minimum", "10000.00"), ("INR", "50000.01", "maximum", "50000.00")],
)
async def test_an_amount_outside_the_limits_is_refused_naming_the_limit(
    client, currency: str, amount: str, limit: str, bound: str
) -> None:
    customer = await customer_id(client, currency=currency)
    refused = await client.post("/v1/topups", json={"customer": customer, "gateway": "sandbox", "amount": amount,
                                                    "currency": currency})
    error = expect_error(refused, 422, "topup_amount_out_of_range")
    assert (error["param"], error["details"]) == ("amount", {"limit": limit, "amount": bound, "currency": currency})
    assert ok(await client.get("/v1/topups", params={"customer": customer}))["data"] == []


async def test_midtrans_refuses_fractional_rupiah_before_any_order(client, fakes) -> None:
    customer = await customer_id(client, currency="IDR")
    before = len(fakes.midtrans.snaps)
    refused = await client.post("/v1/topups", json={"customer": customer, "gateway": "midtrans",
                                                    "amount": "10000.50", "currency": "IDR"})
    assert expect_error(refused, 422, "amount_not_supported_by_gateway")["param"] == "amount"
    assert len(fakes.midtrans.snaps) == before
    assert ok(await client.get("/v1/topups", params={"customer": customer}))["data"] == []
    # The sandbox charges sen, so the same amount is fine there.
    assert (await open_topup(client, customer, "sandbox", amount="10000.50", currency="IDR"))["total"] == "11100.56"


@pytest.mark.parametrize(
    "body",
    [{"amount": "10", "currency": "USD", "package": "pkg_x"}, {"amount": "10"}, {}, {"amount": "10", "currency": "USD",
                                                                                     "gateway": "paypal"}],
)
async def test_a_top_up_needs_a_package_or_an_amount_and_currency(client, body: dict) -> None:
    customer = await customer_id(client, currency="USD")
    expect_error(await client.post("/v1/topups", json={"customer": customer, "gateway": "sandbox", **body}), 422,
                 "validation_error")


async def test_credits_need_their_wallet_before_the_order_exists(client) -> None:
    package = ok(await client.post("/v1/packages", json={"name": "P", "price": {"amount": "10", "currency": "USD"},
                                                         "credits": "1000", "currency_of_credits": "CREDITS"}), 201)
    customer = await customer_id(client, currency="USD")
    refused = await client.post("/v1/topups", json={"customer": customer, "gateway": "sandbox",
                                                    "package": package["id"]})
    expect_error(refused, 422, "wallet_not_found")
    expect_error(await client.post("/v1/topups", json={"customer": "nobody", "gateway": "sandbox", "amount": "10",
                                                       "currency": "USD"}), 404, "not_found")


async def test_an_unreachable_gateway_fails_the_top_up_and_answers_503(client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    fakes.stripe.fail_next(503, {"error": {"type": "api_error", "message": "down"}})
    error = expect_error(
        await client.post("/v1/topups", json={"customer": customer, "gateway": "stripe", "amount": "12.50",
                                              "currency": "USD"}),
        503, "gateway_unavailable",
    )
    failed = await topup(client, error["details"]["topup"])
    assert failed["status"] == "failed" and failed["failure_reason"].startswith("checkout not opened:")
    assert failed["gateway_reference"] is None
    # The next attempt opens a new top-up.
    assert (await open_topup(client, customer, "stripe", amount="12.50", currency="USD"))["status"] == "pending"


async def test_a_gateway_that_refuses_fails_the_top_up_and_answers_502(client, fakes) -> None:
    customer = await customer_id(client, currency="INR")
    fakes.razorpay.fail_next(400, {"error": {"code": "BAD_REQUEST_ERROR", "description": "Authentication failed"}})
    error = expect_error(
        await client.post("/v1/topups", json={"customer": customer, "gateway": "razorpay", "amount": "500",
                                              "currency": "INR"}),
        502, "gateway_refused",
    )
    assert (await topup(client, error["details"]["topup"]))["status"] == "failed"


async def test_read_and_list_by_customer(client) -> None:
    customer, other = await customer_id(client, currency="USD"), await customer_id(client, currency="USD")
    first = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    second = await open_topup(client, customer, "sandbox", amount="20", currency="USD")
    await open_topup(client, other, "sandbox", amount="30", currency="USD")
    listed = ok(await client.get("/v1/topups", params={"customer": customer, "limit": 1}))
    assert ([t["id"] for t in listed["data"]], listed["has_more"]) == ([second["id"]], True)
    page = ok(await client.get("/v1/topups", params={"customer": customer, "starting_after": second["id"]}))
    assert [t["id"] for t in page["data"]] == [first["id"]]
    assert await topup(client, first["id"]) == first
    expect_error(await client.get("/v1/topups/top_missing"), 404, "not_found")


async def test_a_retried_request_opens_one_top_up(client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    body = {"customer": customer, "gateway": "stripe", "amount": "12.50", "currency": "USD"}
    first = await client.post("/v1/topups", json=body, headers={"Idempotency-Key": "topup-1"})
    again = await client.post("/v1/topups", json=body, headers={"Idempotency-Key": "topup-1"})
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (201, 201, "true")
    assert again.json() == first.json()
    assert len(ok(await client.get("/v1/topups", params={"customer": customer}))["data"]) == 1
    reused = await client.post("/v1/topups", json={**body, "amount": "13"}, headers={"Idempotency-Key": "topup-1"})
    expect_error(reused, 409, "idempotency_key_reused")


async def test_opening_a_top_up_needs_a_full_operator_key(app, client) -> None:
    customer = await customer_id(client, currency="USD")
    body = {"customer": customer, "gateway": "sandbox", "amount": "10", "currency": "USD"}
    async with await usage_client(app) as gateway:
        expect_error(await gateway.post("/v1/topups", json=body), 403, "forbidden")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        expect_error(await anon.post("/v1/topups", json=body), 401, "unauthenticated")
        expect_error(await anon.get("/v1/topups"), 401, "unauthenticated")
