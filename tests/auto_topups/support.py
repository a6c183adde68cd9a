"""Helpers for auto top-up tests: settings through the API, attempts, the events they raised."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from creditflow.db.tables import webhook_events
from tests.factories import customer_id, debit, ok
from tests.payment_methods.support import save_card


def settings_url(customer: str, currency: str = "USD") -> str:
    return f"/v1/customers/{customer}/wallets/{currency}/auto_topup"


async def set_auto_topup(client: httpx.AsyncClient, customer: str, currency: str = "USD", **body: Any) -> dict:
    return ok(await client.put(settings_url(customer, currency), json=body))


async def attempts(client: httpx.AsyncClient, customer: str, currency: str = "USD") -> list[dict[str, Any]]:
    """Oldest first."""
    page = ok(await client.get(f"{settings_url(customer, currency)}/attempts", params={"limit": 100}))
    return list(reversed(page["data"]))


async def events_of(app: Any, event_type: str) -> list[dict[str, Any]]:
    async with app.state.engine.connect() as conn:
        rows = await conn.execute(
            select(webhook_events.c.data).where(webhook_events.c.type == event_type).order_by(webhook_events.c.id)
        )
        return [row.data for row in rows]


async def carded_customer(client, gateway_client, fakes, *, spend: str = "0") -> tuple[str, dict[str, Any]]:
    """A USD customer with a saved card (its 10.00 top-up credited), then `spend` debited."""
    customer = await customer_id(client, currency="USD", email="buyer@example.com")
    card, _ = await save_card(client, gateway_client, fakes, customer)
    if spend != "0":
        assert (await debit(client, customer, spend)).status_code == 201
    return customer, card
