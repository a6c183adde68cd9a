"""Helpers for saved payment method tests: save a card through a paid Stripe checkout, list, charge."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from creditflow.db.tables import payment_methods, topups
from tests.factories import ok
from tests.topups.support import deliver, open_topup, outcomes


def methods_url(customer: str, method_id: str | None = None, action: str | None = None) -> str:
    url = f"/v1/customers/{customer}/payment_methods"
    if method_id is not None:
        url += f"/{method_id}"
    return f"{url}/{action}" if action else url


async def save_card(
    client: httpx.AsyncClient, gateway_client: httpx.AsyncClient, fakes: Any, customer: str, amount: str = "10.00"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Pay a Stripe top-up that asks to save its card and deliver both of its events: (the method, the top-up)."""
    opened = await open_topup(client, customer, "stripe", amount=amount, currency="USD", save_payment_method=True)
    completed, succeeded = fakes.stripe.pay(opened["gateway_reference"])
    assert outcomes(await deliver(gateway_client, "stripe", completed)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "stripe", succeeded)) == ["duplicate"]
    newest = ok(await client.get(methods_url(customer)))["data"][0]
    return newest, ok(await client.get(f"/v1/topups/{opened['id']}"))


async def listed(client: httpx.AsyncClient, customer: str, **params: Any) -> list[dict[str, Any]]:
    return ok(await client.get(methods_url(customer), params=params))["data"]


async def charge(
    client: httpx.AsyncClient, customer: str, method_id: str, key: str | None, **body: Any
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post(methods_url(customer, method_id, "charge"), json=body, headers=headers)


async def count_rows(app: Any, table: Any, *where: Any) -> int:
    async with app.state.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(table).where(*where))).scalar_one()


async def method_rows(app: Any, customer: str) -> int:
    return await count_rows(app, payment_methods, payment_methods.c.customer_id == customer)


async def topup_rows(app: Any, customer: str) -> int:
    return await count_rows(app, topups, topups.c.customer_id == customer)
