"""HTTP transaction history: operations newest first, each with its double-entry transfers."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select

from creditflow.db.tables import operator_keys
from tests.factories import customer_id, debit, grant, make_customer, ok, wallet


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


async def _page(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    return ok(await client.get("/v1/transactions", params=params))


async def _history(client: httpx.AsyncClient, customer: str) -> list[dict[str, Any]]:
    return (await _page(client, customer=customer, limit=100))["data"]


def _moves(op: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(t["from"], t["to"], t["amount"], t["kind"]) for t in op["transfers"]]


async def test_transactions_are_listed_newest_first_with_kind_amount_and_time(client, clock):
    customer = await customer_id(client)
    start = clock.now()
    lot = await grant(client, customer, "10.00")
    clock.advance(minutes=1)
    spent = ok(await debit(client, customer, "4.00"), 201)
    clock.advance(minutes=1)
    refund = ok(await client.post(f"/v1/debits/{spent['id']}/refund", json={"amount": "1.00"}), 201)
    ops = await _history(client, customer)
    assert [(op["kind"], op["amount"], op["reference"]) for op in ops] == [
        ("refund", "1.00", spent["id"]), ("debit", "4.00", None), ("grant", "10.00", lot["id"]),
    ]
    assert [op["id"] for op in ops[:2]] == [refund["id"], spent["id"]]
    assert [_at(op["created_at"]) for op in ops] == [start + timedelta(minutes=m) for m in (2, 1, 0)]
    assert all(op["object"] == "transaction" and op["customer"] == customer for op in ops)
    assert all(op["currency"] == "USD" for op in ops)


async def test_transactions_carry_description_and_metadata(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00", description="top-up", metadata={"invoice": "in_1"})
    await debit(client, customer, "1.00", description="usage", metadata={"event": "ev_9"})
    debit_op, grant_op = await _history(client, customer)
    assert (debit_op["description"], debit_op["metadata"]) == ("usage", {"event": "ev_9"})
    assert (grant_op["description"], grant_op["metadata"]) == ("top-up", {"invoice": "in_1"})


async def test_grant_transfers_credit_the_lot_from_topups(client):
    customer = await customer_id(client)
    lot = await grant(client, customer, "10.00")
    (op,) = await _history(client, customer)
    assert _moves(op) == [("sys_topups_USD", lot["id"], "10.00", "grant")]


async def test_debit_transfers_move_each_lot_share_to_revenue(client):
    customer = await customer_id(client)
    first = await grant(client, customer, "1.00", priority=1)
    second = await grant(client, customer, "5.00")
    await debit(client, customer, "3.00")
    op = (await _history(client, customer))[0]
    assert sorted(_moves(op)) == sorted(
        [(first["id"], "sys_revenue_USD", "1.00", "debit"), (second["id"], "sys_revenue_USD", "2.00", "debit")]
    )


async def test_overdraft_transfers_name_the_overdraft_account(client):
    customer = await customer_id(client, credit_limit="5")
    await debit(client, customer, "3.00")
    lot = await grant(client, customer, "10.00")
    grant_op, debit_op = (await _history(client, customer))[:2]
    ((overdraft, revenue, amount, kind),) = _moves(debit_op)
    assert overdraft.startswith("ovd_")
    assert (revenue, amount, kind) == ("sys_revenue_USD", "3.00", "debit")
    assert _moves(grant_op) == [
        ("sys_topups_USD", lot["id"], "10.00", "grant"), (lot["id"], overdraft, "3.00", "overdraft_repay"),
    ]


async def test_every_transfer_balances_within_each_currency(client, clock):
    customer = await customer_id(client, credit_limit="5")
    await grant(client, customer, "4.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    spent = ok(await debit(client, customer, "6.00"), 201)
    await grant(client, customer, "3.00", category="promotional")
    clock.advance(hours=2)
    await client.post(f"/v1/debits/{spent['id']}/refund")
    totals: dict[str, Decimal] = {}
    for op in await _history(client, customer):
        for t in op["transfers"]:
            totals[t["from"]] = totals.get(t["from"], Decimal(0)) - Decimal(t["amount"])
            totals[t["to"]] = totals.get(t["to"], Decimal(0)) + Decimal(t["amount"])
    customer_total = sum(v for k, v in totals.items() if not k.startswith("sys_"))
    assert customer_total == Decimal((await wallet(client, customer))["posted"])
    assert sum(totals.values()) == 0


async def test_transactions_record_the_operator_key_as_actor(client, app):
    async with app.state.engine.connect() as conn:
        (key_id,) = (await conn.execute(select(operator_keys.c.id))).scalars().all()
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    spent = ok(await debit(client, customer, "1.00"), 201)
    await client.post(f"/v1/debits/{spent['id']}/refund")
    ops = await _history(client, customer)
    assert [op["actor"] for op in ops] == [f"key:{key_id}"] * 3


async def test_expiry_is_recorded_with_the_expiry_job_as_actor(client, clock):
    customer = await customer_id(client)
    lot = await grant(client, customer, "4.00", expires_at=(clock.now() + timedelta(hours=1)).isoformat())
    await debit(client, customer, "1.00")
    clock.advance(hours=1)
    await wallet(client, customer)
    expiry = (await _history(client, customer))[0]
    assert (expiry["kind"], expiry["reference"], expiry["amount"], expiry["actor"]) == (
        "expiry", lot["id"], "3.00", "system:expiry",
    )
    assert _moves(expiry) == [(lot["id"], "sys_breakage_USD", "3.00", "expiry")]


async def test_transactions_are_filtered_by_customer_id_or_external_id(client):
    mine = await make_customer(client, external_id="history-mine")
    theirs = await customer_id(client)
    await grant(client, mine["id"], "1.00")
    await grant(client, theirs, "2.00")
    by_id = await _history(client, mine["id"])
    assert [op["amount"] for op in by_id] == ["1.00"]
    assert await _history(client, "history-mine") == by_id


async def test_transactions_without_customer_list_every_customer(client):
    first = await customer_id(client)
    second = await customer_id(client)
    await grant(client, first, "1.00")
    await grant(client, second, "2.00")
    ops = (await _page(client))["data"]
    assert [op["customer"] for op in ops] == [second, first]


async def test_transactions_paginate_with_limit_and_starting_after(client):
    customer = await customer_id(client)
    await grant(client, customer, "10.00")
    for _ in range(4):
        await debit(client, customer, "1.00")
    everything = [op["id"] for op in await _history(client, customer)]
    assert len(everything) == 5
    first = await _page(client, customer=customer, limit=2)
    assert [op["id"] for op in first["data"]] == everything[:2]
    assert first["has_more"] is True
    second = await _page(client, customer=customer, limit=2, starting_after=everything[1])
    assert [op["id"] for op in second["data"]] == everything[2:4]
    assert second["has_more"] is True
    third = await _page(client, customer=customer, limit=2, starting_after=everything[3])
    assert [op["id"] for op in third["data"]] == everything[4:]
    assert third["has_more"] is False


async def test_transactions_of_a_customer_with_none_is_an_empty_list(client):
    customer = await customer_id(client)
    assert await _page(client, customer=customer) == {"object": "list", "data": [], "has_more": False}


async def test_transactions_of_unknown_customer_is_404(client):
    response = await client.get("/v1/transactions", params={"customer": "cus_nobody"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
