"""Midtrans notifications into POST /v1/webhooks/midtrans: confirmed with the Status API before anything
commits (its signature does not cover the status), then credited exactly once, or never."""

from __future__ import annotations

import json

from tests.factories import customer_id, expect_error
from tests.payments.fakes.live_server import Notification
from tests.topups.support import available, deliver, inbox, open_topup, outcomes, topup, topup_grants


async def midtrans_topup(client, amount: str = "100000") -> tuple[str, dict]:
    customer = await customer_id(client, currency="IDR")
    return customer, await open_topup(client, customer, "midtrans", amount=amount, currency="IDR")


def status_reads(fakes, order_id: str) -> int:
    return fakes.midtrans.requests.count(("GET", f"/v2/{order_id}/status"))


async def test_settlement_credits_once_with_ppn_on_top(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    pending = fakes.midtrans.choose(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", pending)) == ["unchanged"]
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    paid = await topup(client, opened["id"])
    assert (paid["status"], paid["total"], paid["payment_method"]) == ("paid", "111000.00", "bank_transfer")
    assert await available(client, customer, "IDR") == "100000.00"
    assert await topup_grants(client, customer) == [("paid", "100000.00", "100000.00")]


async def test_settlement_before_pending_credits_once(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    pending = fakes.midtrans.choose(opened["id"])
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    # The late `pending` is confirmed as what Midtrans says now: settled, already credited.
    assert outcomes(await deliver(gateway_client, "midtrans", pending)) == ["duplicate"]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "IDR") == "100000.00"


async def test_capture_and_settlement_of_one_card_payment_credit_once(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    capture = fakes.midtrans.capture_card(opened["id"], "accept")
    settlement = fakes.midtrans.settle(opened["id"])
    for notification in (capture, settlement):
        await deliver(gateway_client, "midtrans", notification)
    assert await available(client, customer, "IDR") == "100000.00"
    assert len(await topup_grants(client, customer)) == 1


async def test_a_replayed_notification_changes_nothing_and_is_not_confirmed_again(
    app, client, gateway_client, fakes
) -> None:
    customer, opened = await midtrans_topup(client)
    fakes.midtrans.choose(opened["id"])
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    reads = status_reads(fakes, opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["duplicate"]
    assert status_reads(fakes, opened["id"]) == reads
    assert await inbox(app, "midtrans") == [("settlement", "credited")]
    assert await available(client, customer, "IDR") == "100000.00"


async def test_a_forged_or_altered_notification_is_refused(app, client, gateway_client, fakes) -> None:
    _, opened = await midtrans_topup(client)
    fakes.midtrans.choose(opened["id"])
    settlement = fakes.midtrans.settle(opened["id"])
    forged = fakes.midtrans.signed({k: v for k, v in settlement.json().items() if k != "signature_key"},
                                   server_key="SB-Mid-server-guessed")
    expect_error(await deliver(gateway_client, "midtrans", forged), 400, "invalid_signature")
    cheaper = Notification(json.dumps({**settlement.json(), "gross_amount": "1000.00"}).encode(), settlement.headers)
    expect_error(await deliver(gateway_client, "midtrans", cheaper), 400, "invalid_signature")
    assert await inbox(app, "midtrans") == []
    assert (await topup(client, opened["id"]))["status"] == "pending"


async def test_a_status_the_signature_does_not_cover_is_confirmed_not_trusted(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    pending = fakes.midtrans.choose(opened["id"])
    # transaction_status is not signed: a captured `pending` rewritten to `settlement` still verifies.
    rewritten = Notification(json.dumps({**pending.json(), "transaction_status": "settlement"}).encode(),
                             pending.headers)
    assert outcomes(await deliver(gateway_client, "midtrans", rewritten)) == ["unchanged"]
    assert (await topup(client, opened["id"]))["status"] == "pending"
    assert await available(client, customer, "IDR") == "0.00"


async def test_a_payment_of_another_amount_is_flagged_not_credited(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    fakes.midtrans.choose(opened["id"])
    fakes.midtrans.transactions[opened["id"]]["gross"] = 1000  # Midtrans reports 1,000 IDR paid
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["flagged"]
    flagged = await topup(client, opened["id"])
    assert (flagged["status"], flagged["needs_review"]) == ("pending", True)
    assert "paid 1000.00 IDR" in flagged["review_reason"]
    assert await available(client, customer, "IDR") == "0.00"


async def test_a_payment_after_expiry_is_credited(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    fakes.midtrans.choose(opened["id"])
    expired = fakes.midtrans.expire_now(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", expired)) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "expired"
    settlement = fakes.midtrans.settle(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    assert (await topup(client, opened["id"]))["status"] == "paid"
    assert await available(client, customer, "IDR") == "100000.00"


async def test_status_api_down_answers_503_and_stores_nothing(app, client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    fakes.midtrans.choose(opened["id"])
    settlement = fakes.midtrans.settle(opened["id"])
    fakes.midtrans.fail_next(503, {"status_code": "503", "status_message": "try again"})
    expect_error(await deliver(gateway_client, "midtrans", settlement), 503, "gateway_unavailable")
    assert await inbox(app, "midtrans") == []
    # Midtrans retries a 503: the retry is confirmed and credited.
    assert outcomes(await deliver(gateway_client, "midtrans", settlement)) == ["credited"]
    assert await available(client, customer, "IDR") == "100000.00"


async def test_a_denied_card_fails_the_top_up(client, gateway_client, fakes) -> None:
    customer, opened = await midtrans_topup(client)
    fakes.midtrans.capture_card(opened["id"], "challenge")
    denied = fakes.midtrans.deny(opened["id"])
    assert outcomes(await deliver(gateway_client, "midtrans", denied)) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "failed"
    assert await available(client, customer, "IDR") == "0.00"
