"""lago/wallets.py through /api/v1: idempotent top-ups, settlement once, failed payments, rates."""

from __future__ import annotations

from tests.lago.support import lago_ok, set_up, wallet_of


def _top_up(wallet_id: str, **credits: str) -> dict:
    return {"wallet_transaction": {"wallet_id": wallet_id, **credits}}


async def test_a_top_up_retried_with_its_idempotency_key_is_made_once(client) -> None:
    wallet_id = await set_up(client)
    headers = {"Idempotency-Key": "top-up-1"}
    first = await client.post("/api/v1/wallet_transactions", json=_top_up(wallet_id, granted_credits="5"),
                              headers=headers)
    again = await client.post("/api/v1/wallet_transactions", json=_top_up(wallet_id, granted_credits="5"),
                              headers=headers)
    assert (first.status_code, again.status_code, again.headers.get("Idempotent-Replayed")) == (200, 200, "true")
    assert again.json() == first.json()
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 1500


async def test_a_failed_payment_credits_nothing_and_is_final(client) -> None:
    wallet_id = await set_up(client)
    (pending,) = (await lago_ok(client.post("/api/v1/wallet_transactions",
                                            json=_top_up(wallet_id, paid_credits="20"))))["wallet_transactions"]
    failed = await lago_ok(client.put(f"/api/v1/invoices/{pending['lago_invoice_id']}",
                                      json={"invoice": {"payment_status": "failed"}}))
    assert failed["invoice"]["payment_status"] == "failed"
    late = await lago_ok(client.put(f"/api/v1/invoices/{pending['lago_invoice_id']}",
                                    json={"invoice": {"payment_status": "succeeded"}}), 422)
    assert late["error_details"] == {"payment_status": ["payment_status_is_final"]}
    listed = (await lago_ok(client.get(f"/api/v1/wallets/{wallet_id}/wallet_transactions")))["wallet_transactions"]
    assert [t["status"] for t in listed] == ["settled", "failed"]
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 1000


async def test_credits_are_worth_rate_amount_each(client) -> None:
    await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": "acme", "currency": "USD"}}))
    wallet = (await lago_ok(client.post("/api/v1/wallets", json={"wallet": {
        "external_customer_id": "acme", "rate_amount": "0.5", "granted_credits": "30"}})))["wallet"]
    assert (wallet["rate_amount"], wallet["credits_balance"], wallet["balance_cents"]) == ("0.5", "30.0", 1500)
    listed = await lago_ok(client.get("/api/v1/wallets", params={"external_customer_id": "acme"}))
    assert [w["lago_id"] for w in listed["wallets"]] == [wallet["lago_id"]]
    again = await lago_ok(client.post("/api/v1/wallets", json={"wallet": {"external_customer_id": "acme"}}), 422)
    assert again["error_details"] == {"customer": ["wallet_already_exists"]}


async def test_the_top_up_invoice_carries_the_currency_tax(client) -> None:
    await lago_ok(client.post("/api/v1/customers", json={"customer": {"external_id": "budi", "currency": "IDR"}}))
    wallet = (await lago_ok(client.post("/api/v1/wallets", json={"wallet": {
        "external_customer_id": "budi", "rate_amount": "1000"}})))["wallet"]
    (pending,) = (await lago_ok(client.post("/api/v1/wallet_transactions",
                                            json=_top_up(wallet["lago_id"], paid_credits="100"))))[
        "wallet_transactions"]
    invoice = (await lago_ok(client.get(f"/api/v1/invoices/{pending['lago_invoice_id']}")))["invoice"]
    # The default IDR rule adds 11% PPN on top: 100 credits at 1,000 IDR.
    assert (invoice["fees_amount_cents"], invoice["taxes_amount_cents"], invoice["total_amount_cents"]) == (
        10_000_000, 1_100_000, 11_100_000
    )
    await lago_ok(client.put(f"/api/v1/invoices/{pending['lago_invoice_id']}",
                             json={"invoice": {"payment_status": "succeeded"}}))
    assert (await wallet_of(client, wallet["lago_id"]))["credits_balance"] == "100.0"


async def test_invoices_list_the_top_up_invoices_by_customer(client) -> None:
    wallet_id = await set_up(client)
    for credits in ("2", "3"):
        await lago_ok(client.post("/api/v1/wallet_transactions", json=_top_up(wallet_id, paid_credits=credits)))
    listed = await lago_ok(client.get("/api/v1/invoices", params={"external_customer_id": "acme", "per_page": 2}))
    # The free plan's first period is an invoice too, paid from the balance.
    assert [(i["invoice_type"], i["total_amount_cents"]) for i in listed["invoices"]] == [
        ("subscription", 0), ("credit", 200)
    ]
    assert (listed["meta"]["total_count"], listed["meta"]["next_page"]) == (3, 2)
    downloaded = (await lago_ok(client.post(f"/api/v1/invoices/{listed['invoices'][0]['lago_id']}/download")))
    assert downloaded["invoice"]["file_url"].endswith(f"/v1/invoices/{listed['invoices'][0]['lago_id']}/pdf")


async def test_voided_credits_leave_the_wallet_but_never_more_than_it_has(client) -> None:
    wallet_id = await set_up(client)
    (voided,) = (await lago_ok(client.post("/api/v1/wallet_transactions",
                                           json=_top_up(wallet_id, voided_credits="4"))))["wallet_transactions"]
    assert (voided["status"], voided["transaction_status"], voided["transaction_type"]) == (
        "settled", "voided", "outbound"
    )
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 600
    refused = await lago_ok(client.post("/api/v1/wallet_transactions", json=_top_up(wallet_id, voided_credits="7")),
                            402)
    assert refused["code"] == "insufficient_funds"
    assert (await wallet_of(client, wallet_id))["balance_cents"] == 600
