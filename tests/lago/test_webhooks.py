"""Webhooks in Lago's format: an endpoint registered with format "lago" gets Lago's bodies for the Lago API's
events, signed with X-Lago-Signature (base64 HMAC-SHA256 of the body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import httpx

from creditflow.webhooks.jobs import deliver_due
from tests.factories import ok
from tests.lago.support import event, lago_ok, set_up

LAGO_EVENTS = ["wallet_transaction.created", "wallet_transaction.updated", "wallet.depleted_ongoing_balance",
               "invoice.payment_status_updated"]


async def test_a_lago_format_endpoint_gets_lagos_bodies_signed_with_hmac(client, app) -> None:
    endpoint = ok(await client.post("/v1/webhook_endpoints", json={
        "url": "https://hooks.example/lago", "events": LAGO_EVENTS, "format": "lago"}), 201)
    assert endpoint["format"] == "lago"
    wallet_id = await set_up(client, granted="1.0")
    (pending,) = (await lago_ok(client.post("/api/v1/wallet_transactions", json={"wallet_transaction": {
        "wallet_id": wallet_id, "paid_credits": "2"}})))["wallet_transactions"]
    await lago_ok(client.put(f"/api/v1/invoices/{pending['lago_invoice_id']}",
                             json={"invoice": {"payment_status": "succeeded"}}))
    await lago_ok(client.post("/api/v1/events", json={"event": event("e-1", 250)}))
    await lago_ok(client.post("/api/v1/events", json={"event": event("e-2", 250)}))

    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        assert await deliver_due(app.state.engine, app.state.clock, client=http) == 5
    for request in received:
        digest = hmac.new(endpoint["secret"].encode(), request.content, hashlib.sha256).digest()
        assert request.headers["X-Lago-Signature"] == base64.b64encode(digest).decode()
        assert request.headers["X-Lago-Signature-Algorithm"] == "hmac"
    by_type: dict[str, list[dict]] = {}
    for body in (json.loads(r.content) for r in received):
        assert body["object_type"] in body
        by_type.setdefault(body["webhook_type"], []).append(body)
    created = sorted(b["wallet_transaction"]["transaction_status"] for b in by_type["wallet_transaction.created"])
    assert created == ["granted", "purchased"]
    (updated,) = by_type["wallet_transaction.updated"]
    assert (updated["wallet_transaction"]["status"], updated["wallet_transaction"]["credit_amount"]) == (
        "settled", "2.0"
    )
    (payment,) = by_type["invoice.payment_status_updated"]
    assert (payment["invoice"]["payment_status"], payment["invoice"]["total_amount_cents"]) == ("succeeded", 200)
    # 1.00 granted + 2.00 paid: the first 2.50 leaves 0.50; only the second event takes it below zero.
    (depleted,) = by_type["wallet.depleted_ongoing_balance"]
    assert (depleted["wallet"]["ongoing_balance_cents"], depleted["wallet"]["ongoing_usage_balance_cents"]) == (
        -200, 200
    )
