"""Monthly statements: per wallet, the opening balance at the start of the customer's calendar month, every
movement of the month by category, and the closing balance. Everything comes from the transfers, so a
statement reconciles exactly: opening + the movements = closing. A month is stated only once its late-event
window has passed, so no event can still change it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest
from creditflow.statements import repository

CATEGORIES = ("topups", "grants", "usage", "subscriptions", "refunds", "expiries", "voids", "debt", "other")
_BY_KIND = {
    "debit": "usage", "capture": "usage", "usage_credit": "usage", "subscription": "subscriptions",
    "refund": "refunds", "refund_reversal": "refunds", "expiry": "expiries", "breakage": "expiries",
    "void": "voids", "debt": "debt", "debt_collect": "debt", "debt_repay": "debt",
}
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


class StatementNotReady(Conflict):
    code = "statement_not_ready"


@dataclass(frozen=True, slots=True)
class WalletStatement:
    unit: str
    opening: int
    movements: dict[str, int]
    closing: int


@dataclass(frozen=True, slots=True)
class Statement:
    customer_id: str
    month: str
    timezone: str
    start: datetime
    end: datetime
    wallets: list[WalletStatement]
    usage_by_metric: list[tuple[str, str, int, int]]


def month_bounds(month: str, timezone: str) -> tuple[datetime, datetime]:
    matched = _MONTH.match(month)
    if matched is None:
        raise InvalidRequest("a statement month is written YYYY-MM, e.g. 2026-01", param="month")
    year, number = int(matched.group(1)), int(matched.group(2))
    zone = ZoneInfo(timezone)
    following = (year + number // 12, number % 12 + 1)
    return (datetime(year, number, 1, tzinfo=zone).astimezone(UTC),
            datetime(following[0], following[1], 1, tzinfo=zone).astimezone(UTC))


def category(kind: str, grant_source: str | None) -> str:
    if kind == "grant":
        return "topups" if grant_source == "topup" else "grants"
    return _BY_KIND.get(kind, "other")


async def monthly_statement(tx: Tx, customer: str, month: str, *, late_window: timedelta) -> Statement:
    owner = await get_customer(tx, customer)
    start, end = month_bounds(month, owner.timezone)
    if tx.now < end + late_window:
        raise StatementNotReady(
            f"the statement for {month} is issued once the month and its late-event window are over "
            f"({(end + late_window).isoformat()})", param="month",
        )
    stated = []
    for wallet_id, unit in await repository.customer_wallets(tx, owner.id):
        ids = await repository.wallet_accounts(tx, wallet_id)
        moved = dict.fromkeys(CATEGORIES, 0)
        for kind, source, net in await repository.movements(tx, ids, start, end):
            moved[category(kind, source)] += net
        stated.append(WalletStatement(
            unit, await repository.balance_at(tx, ids, start), moved, await repository.balance_at(tx, ids, end)
        ))
    usage = await repository.usage_by_metric(tx, owner.id, start, end)
    return Statement(owner.id, month, owner.timezone, start, end, stated, usage)
