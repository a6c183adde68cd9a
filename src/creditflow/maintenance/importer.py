"""`creditflow import customers FILE.csv`: customers with opening balances, all or nothing.

Every line is checked first and every bad line reported with its line number; if any is bad, nothing is
written. Otherwise the whole file goes in ONE transaction: a crash half-way leaves nothing half-imported,
and running the same file again skips the customers it already created (matched on external_id), so it
never grants an opening balance twice.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from creditflow import money
from creditflow.customers.service import create_customer
from creditflow.db.tables import customers
from creditflow.db.tx import Tx
from creditflow.ledger import grants
from creditflow.ledger.models import PAID

COLUMNS = ("external_id", "name", "email", "currency", "opening_balance")
REQUIRED = ("external_id",)
MAX_EXTERNAL_ID = 255


@dataclass(slots=True, frozen=True)
class Row:
    line: int
    external_id: str
    name: str | None
    email: str | None
    currency: str
    opening_balance: int


@dataclass(slots=True)
class Outcome:
    created: int = 0
    skipped: int = 0
    granted: int = 0


def read_rows(path: Path, default_currency: str) -> tuple[list[Row], list[str]]:
    """The file's rows, and one message per bad line ("line 7: ...") or bad header."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or ())]
        if missing:
            return [], [f"line 1: the header must name the column(s) {', '.join(missing)}; columns: {COLUMNS}"]
        unknown = [c for c in reader.fieldnames or () if c not in COLUMNS]
        if unknown:
            return [], [f"line 1: unknown column(s) {', '.join(unknown)}; columns: {', '.join(COLUMNS)}"]
        rows, problems, seen = [], [], set()
        for record in reader:
            line = reader.line_num
            try:
                row = _row(line, record, default_currency)
            except ValueError as error:
                problems.append(f"line {line}: {error}")
                continue
            if row.external_id in seen:
                problems.append(f"line {line}: external_id '{row.external_id}' appears twice in the file")
                continue
            seen.add(row.external_id)
            rows.append(row)
    return rows, problems


def _row(line: int, record: dict[str, str | None], default_currency: str) -> Row:
    if None in record:
        raise ValueError("more fields than the header has columns")
    external_id = (record.get("external_id") or "").strip()
    if not external_id or len(external_id) > MAX_EXTERNAL_ID:
        raise ValueError(f"external_id must be 1 to {MAX_EXTERNAL_ID} characters")
    currency = money.normalize_unit((record.get("currency") or "").strip() or default_currency)
    balance_text = (record.get("opening_balance") or "").strip() or "0"
    try:
        balance = money.parse(balance_text)
    except money.MoneyError as error:
        raise ValueError(f"opening_balance: {error}") from None
    if balance < 0:
        raise ValueError(f"opening_balance '{balance_text}' is negative")
    email = (record.get("email") or "").strip() or None
    if email is not None and "@" not in email:
        raise ValueError(f"email '{email}' is not an email address")
    return Row(line, external_id, (record.get("name") or "").strip() or None, email, currency, balance)


async def import_rows(tx: Tx, rows: Iterable[Row], advance: Callable[[int], None]) -> Outcome:
    """Create each customer not imported yet, with its opening balance as a paid grant."""
    outcome = Outcome()
    for row in rows:
        taken = await tx.conn.execute(select(customers.c.id).where(customers.c.external_id == row.external_id))
        if taken.first() is not None:
            outcome.skipped += 1
        else:
            customer = await create_customer(
                tx, external_id=row.external_id, currency=row.currency, name=row.name, email=row.email,
                metadata={"imported_from_line": row.line},
            )
            outcome.created += 1
            if row.opening_balance:
                await grants.grant_credits(
                    tx, customer=customer.id, amount=row.opening_balance, unit=row.currency, category=PAID,
                    source="import", description="opening balance",
                )
                outcome.granted += 1
        advance(1)
    return outcome
