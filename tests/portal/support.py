"""Helpers for portal tests: customers with something to see, customer clients, JWTs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
import jwt

from tests.factories import grant, hold, make_api_key, make_customer, ok
from tests.portal.conftest import JWT_SECRET
from tests.subscriptions.support import make_plan, subscribe
from tests.topups.support import deliver, open_topup, sandbox_notification


@dataclass
class Owned:
    """One customer and the ids of everything it owns."""

    customer: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)


def customer_client(app: Any, credential: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
        headers={"Authorization": f"Bearer {credential}"},
    )


def customer_jwt(external_id: str, now: datetime, *, lifetime: timedelta = timedelta(minutes=10), **claims: Any) -> str:
    body = {"sub": external_id, "exp": int((now + lifetime).timestamp()), "jti": uuid.uuid4().hex, **claims}
    return jwt.encode(body, JWT_SECRET, algorithm="HS256")


async def paid_topup(app: Any, client: httpx.AsyncClient, customer: str, amount: str = "20.00") -> dict[str, Any]:
    """A sandbox top-up paid through the sandbox's signed notification (it credits and issues an invoice)."""
    opened = await open_topup(client, customer, "sandbox", amount=amount, currency="USD")
    assert (await deliver(client, "sandbox", sandbox_notification(app, opened))).status_code == 200
    return ok(await client.get(f"/v1/topups/{opened['id']}"))


async def customer_with_everything(app: Any, client: httpx.AsyncClient, plan: str) -> Owned:
    """A customer with a paid top-up (and its invoice), a key, a hold and a subscription."""
    owned = Owned(await make_customer(client, currency="USD", name="Owner"))
    cid = owned.customer["id"]
    topup = await paid_topup(app, client, cid)
    await grant(client, cid, "100.00")
    owned.ids["topup"] = topup["id"]
    owned.ids["invoice"] = topup["invoice"]
    owned.ids["api_key"] = (await make_api_key(client, cid))["id"]
    owned.ids["hold"] = ok(await hold(client, cid, "1.00"), 201)["id"]
    owned.ids["subscription"] = ok(await subscribe(client, cid, plan), 201)["id"]
    return owned


async def usd_plan(client: httpx.AsyncClient) -> str:
    return (await make_plan(client, f"basic-{uuid.uuid4().hex[:6]}", "5.00", currency="USD"))["id"]
