"""Shared helpers for invoice tests: invoices are made through the service, as top-ups and subscriptions will."""

from __future__ import annotations

import asyncio
import multiprocessing
import traceback
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

from creditflow import money
from creditflow.config import Settings
from creditflow.db.engine import create_engine
from creditflow.db.tx import Tx
from creditflow.invoices import service
from creditflow.invoices.models import Invoice, Issuer, LineInput, Seller, TaxInput

SELLER = Seller(
    name="Creditflow Labs Ltd", address="1 Ledger Lane, Jakarta", tax_id="ID-01.234.567.8-901.000",
    email="billing@creditflow.test", timezone="Asia/Jakarta",
)
ISSUER = Issuer(seller=SELLER, number_prefix="CF")


def line(description: str, amount: str) -> LineInput:
    return LineInput(description=description, amount=money.parse(amount))


def tax(name: str, rate: str, *, inclusive: bool = False, amount: str | None = None) -> TaxInput:
    return TaxInput(
        name=name, rate_percent=Decimal(rate), inclusive=inclusive,
        amount=None if amount is None else money.parse(amount),
    )


@asynccontextmanager
async def transaction(app: Any) -> AsyncIterator[Tx]:
    """One committed transaction on the app's database at the app's clock, as a request or job would have."""
    async with app.state.engine.begin() as conn:
        yield Tx(conn=conn, now=app.state.clock.now(), actor="test")


async def draft(
    app: Any, customer: str, *, currency: str = "USD", lines: Sequence[LineInput] | None = None,
    taxes: Sequence[TaxInput] = (), **fields: Any,
) -> Invoice:
    async with transaction(app) as tx:
        return await service.create_draft(
            tx, customer=customer, currency=currency, lines=[line("Credits", "10.00")] if lines is None else lines,
            taxes=taxes, **fields,
        )


async def issued(app: Any, customer: str, *, issuer: Issuer = ISSUER, **fields: Any) -> Invoice:
    """A finalized invoice."""
    invoice = await draft(app, customer, **fields)
    async with transaction(app) as tx:
        return await service.finalize(tx, invoice.id, issuer)


async def finalize_concurrently(
    database_url: str, invoice_ids: Sequence[str], *, roll_back: Sequence[str] = (), now: Any
) -> dict[str, str]:
    """Finalize every draft at once, each in its own connection and transaction; those in `roll_back` take a
    number and then roll back. Returns the committed numbers by invoice id."""
    # NullPool: a connection per transaction, so even SQLite sees truly concurrent writers (threads).
    engine = create_engine(Settings(database_url=database_url), pooled=False)
    start = asyncio.Event()
    numbers: dict[str, str] = {}

    class _RolledBack(Exception):
        pass

    async def one(invoice_id: str) -> None:
        await start.wait()
        try:
            async with engine.begin() as conn:
                invoice = await service.finalize(Tx(conn=conn, now=now, actor="test"), invoice_id, ISSUER)
                # Hold the counter's lock a moment, so the others really queue behind it.
                await asyncio.sleep(0.005)
                if invoice_id in roll_back:
                    raise _RolledBack
        except _RolledBack:
            return
        assert invoice.number is not None
        numbers[invoice_id] = invoice.number

    try:
        tasks = [asyncio.create_task(one(invoice_id)) for invoice_id in invoice_ids]
        await asyncio.sleep(0)
        start.set()
        await asyncio.gather(*tasks)
    finally:
        await engine.dispose()
    return numbers


def sequences(numbers: Sequence[str]) -> list[int]:
    """CF-2026-000042 -> 42, sorted."""
    return sorted(int(number.rsplit("-", 1)[1]) for number in numbers)


def finalize_from_processes(
    database_url: str, invoice_ids: Sequence[str], *, now: Any, processes: int = 4
) -> list[str]:
    """Split the drafts over spawned OS processes that start together and finalize concurrently; every number."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(processes)
    results = context.Queue()
    children = [
        context.Process(target=_child, args=(database_url, list(invoice_ids[i::processes]), now, barrier, results))
        for i in range(processes)
    ]
    for child in children:
        child.start()
    try:
        reports = [results.get(timeout=120) for _ in children]
    finally:
        for child in children:
            child.join(timeout=30)
            if child.is_alive():
                child.kill()
    failures = [payload for kind, payload in reports if kind == "error"]
    assert not failures, "\n".join(failures)
    return [number for _, payload in reports for number in payload]


def _child(database_url: str, invoice_ids: list[str], now: Any, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(60)
        numbers = asyncio.run(finalize_concurrently(database_url, invoice_ids, now=now))
    except BaseException:
        barrier.abort()
        results.put(("error", traceback.format_exc()))
    else:
        results.put(("ok", list(numbers.values())))
