"""The portal in a real browser, on SQLite and PostgreSQL: the journeys of issue 14."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

import jwt
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import JWT_SECRET, Served


def _ok(response, status: int = 201) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def _customer(served: Served, **fields) -> dict:
    body = {"external_id": f"ext-{uuid.uuid4().hex[:8]}", "currency": "USD", **fields}
    return _ok(served.operator.post("/v1/customers", json=body))


def _portal_link(served: Served, customer: str, **fields) -> str:
    return _ok(served.operator.post(f"/v1/customers/{customer}/portal_sessions", json=fields))["url"]


def _sandbox_topup(served: Served, customer: str, amount: str) -> dict:
    body = {"customer": customer, "gateway": "sandbox", "amount": amount, "currency": "USD"}
    return _ok(served.operator.post("/v1/topups", json=body))


def test_sign_up_get_a_key_buy_credits_and_manage_keys(served: Served, page: Page) -> None:
    page.goto(f"{served.url}/portal/signup")
    served.shot(page, "01-signup")
    page.get_by_label("Email").fill(f"dev-{uuid.uuid4().hex[:6]}@example.com")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("cf_ck_")
    served.shot(page, "02-first-key")

    page.get_by_role("link", name="Buy credits").first.click()
    page.get_by_text("Other amount", exact=True).first.click()
    page.get_by_label("Other amount (USD)").fill("25")
    expect(page.get_by_test_id("preview-total")).to_have_text("$25.00")
    served.shot(page, "03-buy")
    page.get_by_role("button", name="Continue to payment").click()
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "pending")
    page.get_by_role("link", name=re.compile(r"^Pay ")).click()
    page.get_by_role("button", name="Pay").click()
    expect(page.get_by_test_id("payment-status")).to_have_attribute("data-status", "paid")
    served.shot(page, "04-paid")

    page.get_by_role("link", name="See your balance").click()
    expect(page.get_by_test_id("available-USD")).to_have_text("$25.00")
    served.shot(page, "05-overview")

    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("staging")
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_test_id("new-key")).to_contain_text("cf_ck_")
    served.shot(page, "06-keys")
    page.get_by_role("button", name="Revoke staging").click()
    expect(page.locator("tr[data-key=staging]")).to_contain_text("Revoked")


def test_operator_link_shows_usage_and_an_invoice_pdf(served: Served, page: Page) -> None:
    customer = _customer(served, name="Globex Corporation — Research & Development Division", timezone="Asia/Jakarta")
    cid = customer["id"]
    _ok(served.operator.post("/v1/credit_grants", json={"customer": cid, "amount": "50.00", "category": "paid"}))
    metrics = [f"tokens-{uuid.uuid4().hex[:4]}", f"images-{uuid.uuid4().hex[:4]}"]
    for code, price in zip(metrics, ("0.02", "0.25"), strict=True):
        _ok(served.operator.post("/v1/metrics", json={"code": code, "name": code, "aggregation": "count"}))
        body = {"metric": code, "currency": "USD", "model": "standard", "properties": {"amount": price}}
        _ok(served.operator.post("/v1/prices", json=body))
    now = datetime.now(UTC)
    events = [
        {"customer": cid, "metric": metrics[n % 2], "transaction_id": f"t{n}",
         "timestamp": (now - timedelta(days=n % 9, minutes=n)).isoformat()}
        for n in range(40)
    ]
    _ok(served.operator.post("/v1/events/batch", json={"events": events}), 200)
    topup = _sandbox_topup(served, cid, "10.00")
    page.goto(topup["checkout_url"])
    page.get_by_role("button", name="Pay").click()

    page.goto(_portal_link(served, cid, flow="usage"))
    expect(page).to_have_url(f"{served.url}/portal/usage")
    expect(page.locator("#spend-chart")).to_be_visible()
    expect(page.get_by_test_id("usage-table")).to_contain_text(metrics[0])
    served.shot(page, "07-usage")
    page.get_by_role("link", name="Overview").click()
    served.shot(page, "08-overview-long-name")
    page.get_by_role("link", name="Transactions").click()
    served.shot(page, "09-transactions")
    page.get_by_role("link", name="Invoices").click()
    served.shot(page, "10-invoices")
    with page.expect_download() as download:
        page.get_by_role("link", name="PDF").first.click()
    assert download.value.suggested_filename.endswith(".pdf")
    with open(download.value.path(), "rb") as pdf:
        assert pdf.read(4) == b"%PDF"

    page.set_viewport_size({"width": 390, "height": 844})
    page.get_by_role("link", name="Overview").click()
    served.shot(page, "11-phone-overview")


def test_a_jwt_opens_the_portal_and_a_used_link_says_so(served: Served, browser: Browser) -> None:
    customer = _customer(served, name="Initech")
    token = jwt.encode(
        {"sub": customer["external_id"], "exp": datetime.now(UTC) + timedelta(minutes=5), "jti": uuid.uuid4().hex},
        JWT_SECRET, algorithm="HS256",
    )
    link = _portal_link(served, customer["id"])
    first, second = browser.new_context(), browser.new_context()
    try:
        visit = first.new_page()
        visit.goto(f"{served.url}/portal?token={token}")
        expect(visit).to_have_url(f"{served.url}/portal")
        expect(visit.get_by_role("heading", name="Billing overview")).to_be_visible()
        visit.goto(link)
        expect(visit.get_by_role("heading", name="Billing overview")).to_be_visible()
        late = second.new_page()
        late.goto(link)
        expect(late.get_by_test_id("message")).to_contain_text("already used or has expired")
        served.shot(late, "12-link-unusable")
    finally:
        first.close()
        second.close()


def test_customer_a_cannot_see_customer_b(served: Served, page: Page) -> None:
    a, b = _customer(served, name="Alpha"), _customer(served, name="Beta")
    topup = _sandbox_topup(served, b["id"], "5.00")
    page.goto(_portal_link(served, a["id"]))
    page.goto(f"{served.url}/portal/payment?topup_id={topup['id']}")
    expect(page.get_by_role("heading", name="Payment not found")).to_be_visible()
    response = page.goto(f"{served.url}/portal/invoices/inv_unknown/pdf")
    assert response is not None and response.status == 404
    expect(page.locator("body")).not_to_contain_text("Beta")
