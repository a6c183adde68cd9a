"""Invoice numbers: one gapless sequence per prefix and calendar year in the seller's time zone.

The next number comes from a counter row incremented by a conditional UPDATE ... RETURNING inside the
finalizing transaction. On PostgreSQL the UPDATE's row lock queues concurrent finalizations until the
holder commits or rolls back, and READ COMMITTED re-reads the row for the next one; on SQLite writers
are already serialized (BEGIN IMMEDIATE). A rollback returns the number with everything else, so
numbers never skip, and the unique index on invoices.number would refuse a duplicate anyway.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import update

from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import invoice_counters
from creditflow.db.tx import Tx


def invoice_year(moment: datetime, timezone: str) -> int:
    """The calendar year at `moment` where the seller is: 2026-12-31T20:00Z is already 2027 in Jakarta."""
    return moment.astimezone(ZoneInfo(timezone)).year


def format_number(prefix: str, year: int, sequence: int) -> str:
    return f"{prefix}-{year}-{sequence:06d}"


async def take_number(tx: Tx, prefix: str, year: int) -> int:
    """The next number of (prefix, year), locked until the caller's transaction ends."""
    increment = (
        update(invoice_counters)
        .where(invoice_counters.c.prefix == prefix, invoice_counters.c.year == year)
        .values(last_number=invoice_counters.c.last_number + 1)
        .returning(invoice_counters.c.last_number)
    )
    taken = (await tx.conn.execute(increment)).scalar()
    if taken is None:
        # First invoice of the year: a concurrent first one may insert the row too, hence no conflict
        # error; the UPDATE then waits for whichever insert won and counts on from its number.
        await insert_ignoring_conflicts(tx.conn, invoice_counters, [{"prefix": prefix, "year": year, "last_number": 0}])
        taken = (await tx.conn.execute(increment)).scalar_one()
    return taken
