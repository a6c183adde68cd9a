"""invoices/numbering.py: one gapless sequence per prefix and year (seller's time zone), under real concurrency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from creditflow.invoices import service
from creditflow.invoices.models import Issuer, Seller
from creditflow.invoices.numbering import format_number, invoice_year
from tests.factories import customer_id
from tests.invoices.support import (
    ISSUER,
    draft,
    finalize_concurrently,
    finalize_from_processes,
    issued,
    sequences,
    transaction,
)


@pytest.mark.parametrize(
    ("moment", "timezone", "year"),
    [
        (datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC), "Asia/Jakarta", 2026),
        (datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC), "Asia/Jakarta", 2027),
        (datetime(2027, 1, 1, 3, 0, 0, tzinfo=UTC), "America/New_York", 2026),
        (datetime(2027, 1, 1, 0, 0, 0, tzinfo=UTC), "UTC", 2027),
    ],
)
def test_the_year_is_the_sellers_calendar_year(moment, timezone, year):
    assert invoice_year(moment, timezone) == year


def test_numbers_are_prefix_year_and_six_digits():
    assert format_number("CF", 2026, 42) == "CF-2026-000042"
    assert format_number("ACME-INV", 2027, 1_234_567) == "ACME-INV-2027-1234567"


async def test_finalizing_numbers_one_after_another_and_drafts_have_none(client, app):
    customer = await customer_id(client)
    waiting = await draft(app, customer)
    assert waiting.number is None
    numbers = [(await issued(app, customer)).number for _ in range(3)]
    assert numbers == ["CF-2026-000001", "CF-2026-000002", "CF-2026-000003"]
    async with transaction(app) as tx:
        assert (await service.get_invoice(tx, waiting.id)).number is None


async def test_the_sequence_restarts_at_the_new_year_in_the_sellers_time_zone(client, app, clock):
    customer = await customer_id(client)
    clock.set(datetime(2026, 12, 31, 16, 59, 59, tzinfo=UTC))  # 23:59:59 in Jakarta
    assert (await issued(app, customer)).number == "CF-2026-000001"
    assert (await issued(app, customer)).number == "CF-2026-000002"
    clock.set(datetime(2026, 12, 31, 17, 0, 0, tzinfo=UTC))  # midnight in Jakarta, still 2026 in UTC
    assert (await issued(app, customer)).number == "CF-2027-000001"
    new_york = Issuer(seller=Seller(None, None, None, None, "America/New_York"), number_prefix="CF")
    # Same instant, but New York is still on 31 December: its series for 2026 goes on.
    assert (await issued(app, customer, issuer=new_york)).number == "CF-2026-000003"


async def test_each_prefix_has_its_own_sequence(client, app):
    customer = await customer_id(client)
    other = Issuer(seller=ISSUER.seller, number_prefix="EU")
    assert (await issued(app, customer)).number == "CF-2026-000001"
    assert (await issued(app, customer, issuer=other)).number == "EU-2026-000001"
    assert (await issued(app, customer)).number == "CF-2026-000002"


async def test_a_rolled_back_finalization_gives_its_number_back(client, app):
    customer = await customer_id(client)
    first = await draft(app, customer)
    with pytest.raises(RuntimeError):
        async with transaction(app) as tx:
            assert (await service.finalize(tx, first.id, ISSUER)).number == "CF-2026-000001"
            raise RuntimeError("the caller's transaction failed after finalizing")
    async with transaction(app) as tx:
        assert (await service.get_invoice(tx, first.id)).number is None
    assert (await issued(app, customer)).number == "CF-2026-000001"


async def test_a_voided_invoice_keeps_its_number_and_it_is_never_reused(client, app):
    customer = await customer_id(client)
    invoice = await issued(app, customer)
    async with transaction(app) as tx:
        voided = await service.void(tx, invoice.id)
    assert (voided.status, voided.number) == ("void", "CF-2026-000001")
    assert (await issued(app, customer)).number == "CF-2026-000002"


async def test_concurrent_finalizations_number_1_to_n_without_gap_or_duplicate(client, app, database_url):
    customer = await customer_id(client)
    # The year's counter exists already: every finalization below goes through the conditional UPDATE.
    assert (await issued(app, customer)).number == "CF-2026-000001"
    drafts = [(await draft(app, customer)).id for _ in range(30)]
    numbers = await finalize_concurrently(database_url, drafts, now=app.state.clock.now())
    assert len(numbers) == 30
    assert sequences(list(numbers.values())) == list(range(2, 32))


async def test_concurrent_finalizations_that_roll_back_leave_no_gap(client, app, database_url):
    customer = await customer_id(client)
    await issued(app, customer)
    drafts = [(await draft(app, customer)).id for _ in range(30)]
    failing = drafts[::4]
    numbers = await finalize_concurrently(database_url, drafts, roll_back=failing, now=app.state.clock.now())
    assert set(numbers) == set(drafts) - set(failing)
    assert sequences(list(numbers.values())) == list(range(2, 32 - len(failing)))
    async with transaction(app) as tx:
        statuses = {(await service.get_invoice(tx, invoice_id)).status for invoice_id in failing}
    assert statuses == {"draft"}


async def test_concurrent_first_invoices_of_a_year_create_the_counter_once(client, app, database_url, clock):
    customer = await customer_id(client)
    drafts = [(await draft(app, customer)).id for _ in range(12)]
    new_year = datetime(2031, 6, 1, tzinfo=UTC)
    numbers = await finalize_concurrently(database_url, drafts, now=new_year)
    assert sorted(numbers.values()) == [f"CF-2031-{n:06d}" for n in range(1, 13)]


async def test_finalizations_from_several_processes_number_without_gap_or_duplicate(client, app, database_url):
    customer = await customer_id(client)
    await issued(app, customer)
    drafts = [(await draft(app, customer)).id for _ in range(32)]
    numbers = await asyncio.to_thread(finalize_from_processes, database_url, drafts, now=app.state.clock.now())
    assert sequences(numbers) == list(range(2, 34))
    async with transaction(app) as tx:
        finalized = await service.list_invoices(tx, customer_id=customer, limit=100, starting_after=None)
    assert sorted(i.number for i in finalized if i.number) == sorted([*numbers, "CF-2026-000001"])
