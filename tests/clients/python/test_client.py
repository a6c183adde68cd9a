"""The Python client against a real `creditflow serve`: money moves once whatever is retried."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import httpx
import pytest

from creditflow_client import (
    AsyncCreditflow,
    AuthenticationError,
    Creditflow,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
)
from tests.served import Served


def new_customer(cf: Creditflow, grant: str | None = "10.00", **fields: object) -> str:
    customer = cf.customers.create(external_id=f"c-{uuid.uuid4().hex[:10]}", **fields)
    if grant:
        cf.credit_grants.create(customer=customer.id, amount=Decimal(grant), category="paid")
    return customer.id


def available(cf: Creditflow, customer: str) -> Decimal:
    [wallet] = cf.wallets.list(customer)
    return wallet.available


def test_amounts_are_decimal_both_ways_and_objects_read_as_attributes(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = new_customer(cf, grant="10.000001")
        debit = cf.debits.create(customer=customer, amount=Decimal("2.5"), description="calls")
        assert debit.wallet["available"] == Decimal("7.500001")
        assert available(cf, customer) == Decimal("7.500001")
        assert isinstance(cf.debits.retrieve(debit.id).amount, Decimal)


def test_a_post_retried_with_its_key_moves_money_once_and_a_new_call_gets_a_new_key(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = new_customer(cf)
        first = cf.debits.create(customer=customer, amount="1.00", idempotency_key="order-1")
        again = cf.debits.create(customer=customer, amount="1.00", idempotency_key="order-1")
        assert again.id == first.id
        cf.debits.create(customer=customer, amount="1.00")
        cf.debits.create(customer=customer, amount="1.00")
        assert available(cf, customer) == Decimal("7.00")
        with pytest.raises(IdempotencyKeyReused):
            cf.debits.create(customer=customer, amount="2.00", idempotency_key="order-1")


class DropAnswers(httpx.BaseTransport):
    """The network between the client and creditflow: the first `lose` answers never arrive (the request did)."""

    def __init__(self, lose: int) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose = lose
        self.keys: list[str | None] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.keys.append(request.headers.get("idempotency-key"))
        response = self.inner.handle_request(request)
        if self.lose:
            self.lose -= 1
            response.close()
            raise httpx.ReadError("connection reset", request=request)
        return response


def test_answers_lost_in_transit_are_retried_with_the_same_key_and_charge_once(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as setup:
        customer = new_customer(setup)
    network = DropAnswers(lose=2)
    with Creditflow(served.operator_key, served.base_url,
                    http_client=httpx.Client(base_url=served.base_url, transport=network)) as cf:
        debit = cf.debits.create(customer=customer, amount="3.00")
        assert len(network.keys) == 3 and len(set(network.keys)) == 1 and network.keys[0].startswith("cfc_")
        assert debit.wallet["available"] == Decimal("7.00")
        assert available(cf, customer) == Decimal("7.00")


def test_errors_are_typed(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = new_customer(cf, grant="1.00")
        with pytest.raises(InsufficientFunds) as refused:
            cf.debits.create(customer=customer, amount="1.50")
        assert (refused.value.status, refused.value.code) == (402, "insufficient_funds")
        with pytest.raises(NotFound):
            cf.customers.retrieve("nobody-here")
        with pytest.raises(InvalidRequest) as invalid:
            cf.debits.create(customer=customer, amount="0.0000001")
        assert invalid.value.status == 422
    with Creditflow("cf_sk_wrong", served.base_url) as cf, pytest.raises(AuthenticationError):
        cf.customers.retrieve(customer)


def test_lists_page_through_everything(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = new_customer(cf, grant=None)
        grants = [cf.credit_grants.create(customer=customer, amount="1", category="promotional").id
                  for _ in range(7)]
        seen = [g.id for g in cf.credit_grants.list(customer=customer, limit=3)]
        assert sorted(seen) == sorted(grants) and len(seen) == 7
        assert [w.currency for w in cf.wallets.list(customer)] == ["USD"]
        assert "customer.created" in {t["type"] for t in cf.webhook_events.types()}


async def test_the_async_client_holds_and_captures(served: Served) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        customer = (await cf.customers.create(external_id=f"a-{uuid.uuid4().hex[:10]}")).id
        await cf.credit_grants.create(customer=customer, amount="5", category="paid")
        authorizations = await asyncio.gather(*(cf.authorize(customer=customer, amount="1") for _ in range(7)))
        allowed = [a for a in authorizations if a.allowed]
        assert len(allowed) == 5 and {a.reason for a in authorizations if not a.allowed} == {"insufficient_funds"}
        capture = await cf.holds.capture(allowed[0].hold_id, amount=Decimal("0.25"))
        assert capture.amount == Decimal("0.25")
        ids = [c.id async for c in cf.customers.list()]
        assert customer in ids
