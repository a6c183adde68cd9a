"""Helpers for top-up tests: open top-ups, deliver notifications, read balances and invoices."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from creditflow.db.tables import webhook_inbox
from creditflow.db.tx import Tx
from creditflow.ledger.check import find_discrepancies
from creditflow.payments.gateways.sandbox import SandboxGateway
from tests.factories import ok, wallet
from tests.payments.fakes.live_server import Notification


async def open_topup(client: httpx.AsyncClient, customer: str, gateway: str, **fields: Any) -> dict[str, Any]:
    return ok(await client.post("/v1/topups", json={"customer": customer, "gateway": gateway, **fields}), 201)


async def deliver(client: httpx.AsyncClient, gateway: str, notification: Notification) -> httpx.Response:
    """POST a notification exactly as the gateway sends it: its raw bytes and its headers."""
    return await client.post(f"/v1/webhooks/{gateway}", content=notification.body, headers=notification.headers)


async def topup(client: httpx.AsyncClient, topup_id: str) -> dict[str, Any]:
    return ok(await client.get(f"/v1/topups/{topup_id}"))


async def available(client: httpx.AsyncClient, customer: str, currency: str) -> str:
    return (await wallet(client, customer, currency))["available"]


def sandbox_of(app: Any) -> SandboxGateway:
    gateway = app.state.gateways.get("sandbox")
    assert isinstance(gateway, SandboxGateway)
    return gateway


def sandbox_notification(app: Any, opened: dict[str, Any], outcome: str = "paid") -> Notification:
    """What pressing Pay (or Fail) on the sandbox checkout page sends."""
    gateway = sandbox_of(app)
    order = gateway.read_checkout_token(opened["id"], opened["token"])
    sent = gateway.build_notification(order, outcome)  # type: ignore[arg-type]
    return Notification(sent.body, sent.headers)


async def inbox(app: Any, gateway: str) -> list[tuple[str, str]]:
    """The (event type, outcome) of every event the inbox holds for `gateway`, in no particular order."""
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(
            select(webhook_inbox.c.event_type, webhook_inbox.c.outcome).where(webhook_inbox.c.gateway == gateway)
        )
        return sorted((row.event_type, row.outcome) for row in rows)


async def topup_grants(client: httpx.AsyncClient, customer: str) -> list[tuple[str, str, str | None]]:
    """(category, amount, cost) of the customer's grants, oldest first."""
    grants = ok(await client.get("/v1/credit_grants", params={"customer": customer}))["data"]
    return [(g["category"], g["amount"], g["cost"]["amount"] if g["cost"] else None) for g in reversed(grants)]


def outcomes(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [event["outcome"] for event in response.json()["events"]]


async def assert_ledger_consistent(app: Any) -> None:
    """`creditflow check`: every cached balance and held amount agrees with the transfers and holds."""
    async with app.state.engine.begin() as conn:
        assert await find_discrepancies(Tx(conn=conn, now=app.state.clock.now(), actor="test")) == []
