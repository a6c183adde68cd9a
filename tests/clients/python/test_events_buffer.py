"""Buffered usage events: sent in batches in the background, everything sent by flush() or on exit."""

from __future__ import annotations

import uuid
from decimal import Decimal

from creditflow_client import AsyncCreditflow, Creditflow
from tests.served import Served


def metered_customer(cf: Creditflow) -> tuple[str, str]:
    code = f"calls_{uuid.uuid4().hex[:8]}"
    cf.metrics.create(code=code, name="API calls", aggregation="count")
    cf.prices.create(metric=code, currency="USD", model="standard", properties={"amount": "0.01"})
    customer = cf.customers.create(external_id=f"m-{uuid.uuid4().hex[:10]}").id
    cf.credit_grants.create(customer=customer, amount="10", category="paid")
    return customer, code


def test_the_buffer_sends_every_event_once_in_batches(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer, metric = metered_customer(cf)
        with cf.event_buffer(interval=30, max_batch=40) as events:
            ids = [events.add(customer, metric) for _ in range(100)]
            events.add(customer, metric, transaction_id=ids[0])  # a retry of the first: a duplicate
        assert (events.accepted, events.duplicates, events.rejected, events.pending) == (100, 1, [], [])
        [wallet] = cf.wallets.list(customer)
        assert wallet.available == Decimal("9.00")


async def test_the_async_buffer_flushes_on_demand(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer, metric = metered_customer(cf)
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        events = cf.event_buffer(interval=30)
        for n in range(10):
            events.add(customer, metric, transaction_id=f"t-{n}")
        events.add(customer, "no-such-metric")
        await events.flush()
        assert (events.accepted, len(events.rejected)) == (10, 1)
        await events.close()
        [wallet] = [w async for w in cf.wallets.list(customer)]
        assert wallet.available == Decimal("9.90")
