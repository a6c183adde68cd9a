"""Budgets at spend time: refuse what a blocking budget cannot allow, count what is spent, note crossings.

Every spend path calls in here inside its own transaction, with the wallet already locked: a budget
covers one customer (or one of its API keys) in one unit, so the wallet lock already serializes
everything that could move it. Spend lives in `budget_usage`, one row per budget and calendar period;
a new period is a new row, so periods roll over without a reset job. Holds reserve budget as they
reserve balance (`hold_budgets`), so capturing within a hold never fails on the budget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update

from creditflow import money
from creditflow.db.dialect import insert_ignoring_conflicts, insert_or_add
from creditflow.db.tables import alerts, budget_usage, budgets, hold_budgets
from creditflow.db.tx import Tx
from creditflow.errors import BudgetExceeded
from creditflow.ids import new_id
from creditflow.ledger.models import WalletState
from creditflow.periods import period_start
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text

THRESHOLD_REACHED = "budget.threshold_reached"
EXCEEDED = "budget.exceeded"


@dataclass(slots=True)
class BudgetState:
    """One active budget as of this transaction: its current period's spend and reservations."""

    id: str
    customer_id: str
    api_key_id: str | None
    unit: str
    amount: int
    action: str
    thresholds: list[int]
    period_start: datetime
    spent: int = 0
    reserved: int = 0

    @property
    def used(self) -> int:
        return self.spent + self.reserved

    @property
    def remaining(self) -> int:
        return max(self.amount - self.used, 0)

    def applies_to(self, api_key_id: str | None) -> bool:
        """Customer-wide budgets watch every spend; a key's budget only the spend made with that key."""
        return self.api_key_id is None or self.api_key_id == api_key_id


@dataclass(slots=True)
class BudgetChanges:
    """What a transaction adds to budget usage and which alerts it raises, written in one go."""

    usage: dict[tuple[str, datetime], list[int]] = field(default_factory=dict)
    alerts: list[dict[str, Any]] = field(default_factory=list)

    def add(self, budget_id: str, start: datetime, *, spent: int = 0, reserved: int = 0) -> None:
        deltas = self.usage.setdefault((budget_id, start), [0, 0])
        deltas[0] += spent
        deltas[1] += reserved


def applicable(states: Iterable[BudgetState], api_key_id: str | None) -> list[BudgetState]:
    return [b for b in states if b.applies_to(api_key_id)]


async def load_budgets(
    tx: Tx, wallets: Iterable[WalletState], *, periods: dict[str, datetime] | None = None
) -> dict[str, list[BudgetState]]:
    """The active budgets watching each wallet (by wallet id), with their spend in the current period,
    or in the period given for a budget in `periods` (a hold settles in the period it reserved in)."""
    wanted = {(w.customer_id, w.unit): w.id for w in wallets}
    if not wanted:
        return {}
    rows = (
        await tx.conn.execute(
            select(budgets)
            .where(budgets.c.customer_id.in_({c for c, _ in wanted}), budgets.c.status == "active")
            .order_by(budgets.c.id)
        )
    ).all()
    by_wallet: dict[str, list[BudgetState]] = {}
    states: dict[tuple[str, datetime], BudgetState] = {}
    for row in rows:
        wallet_id = wanted.get((row.customer_id, row.unit))
        if wallet_id is None:
            continue
        start = (periods or {}).get(row.id) or current_period_start(row, tx.now)
        state = BudgetState(
            row.id, row.customer_id, row.api_key_id, row.unit, row.amount, row.action, list(row.thresholds), start
        )
        by_wallet.setdefault(wallet_id, []).append(state)
        states[(row.id, start)] = state
    for key, (spent, reserved) in (await load_usage(tx, set(states))).items():
        states[key].spent, states[key].reserved = spent, reserved
    return by_wallet


async def load_usage(tx: Tx, keys: set[tuple[str, datetime]]) -> dict[tuple[str, datetime], tuple[int, int]]:
    """(spent, reserved) per (budget id, period start); periods nothing was spent in are left out."""
    if not keys:
        return {}
    rows = await tx.conn.execute(
        select(budget_usage).where(
            budget_usage.c.budget_id.in_({b for b, _ in keys}),
            budget_usage.c.period_start.in_({s for _, s in keys}),
        )
    )
    return {
        (row.budget_id, row.period_start): (row.spent, row.reserved)
        for row in rows
        if (row.budget_id, row.period_start) in keys
    }


def current_period_start(row: Any, now: datetime) -> datetime:
    """Where the budget's period containing `now` began: the calendar's start, or a later manual reset."""
    start = period_start(row.period, now, row.timezone)
    return row.reset_at if row.reset_at is not None and row.reset_at > start else start


def tightest(states: Iterable[BudgetState]) -> BudgetState | None:
    """The budget with the least left (what verify and authorize report)."""
    return min(states, key=lambda s: (s.remaining, s.id), default=None)


def check(states: Iterable[BudgetState], amount: int) -> None:
    """Refuse `amount` if it would take any blocking budget past its amount in the current period."""
    for budget in states:
        if budget.action == "block" and amount > 0 and budget.used + amount > budget.amount:
            remaining = money.format(budget.remaining, budget.unit)
            raise BudgetExceeded(
                f"budget {budget.id} allows {remaining} {budget.unit} more in this period",
                param="amount",
                details={"budget": budget.id, "remaining": remaining, "currency": budget.unit},
            )


def record_spend(changes: BudgetChanges, states: Iterable[BudgetState], amount: int, now: datetime) -> None:
    """Count `amount` as spent on each budget (negative: given back, as a volume price credit-back does)."""
    for budget in states:
        before = budget.spent
        budget.spent += amount
        changes.add(budget.id, budget.period_start, spent=amount)
        changes.alerts += _crossings(budget, before, now)


def _crossings(budget: BudgetState, before: int, now: datetime) -> list[dict[str, Any]]:
    """Alerts for thresholds the spend passed on its way from `before` to now; the unique key on
    (budget, period, kind, threshold) keeps each to once per period even across transactions."""
    after = budget.spent
    crossed = [(THRESHOLD_REACHED, t) for t in budget.thresholds if before * 100 < budget.amount * t <= after * 100]
    if before <= budget.amount < after:
        crossed.append((EXCEEDED, 100))
    return [
        {
            "id": new_id("alr"), "kind": kind, "customer_id": budget.customer_id, "budget_id": budget.id,
            "period_start": budget.period_start, "threshold": threshold, "unit": budget.unit,
            "budget_amount": budget.amount, "spent": after, "created_at": now,
        }
        for kind, threshold in crossed
    ]


async def write_changes(tx: Tx, changes: BudgetChanges) -> None:
    if changes.usage:
        rows = [
            {"budget_id": b, "period_start": s, "spent": d[0], "reserved": d[1], "updated_at": tx.now}
            for (b, s), d in sorted(changes.usage.items())
        ]
        await insert_or_add(tx.conn, budget_usage, rows, key=("budget_id", "period_start"), add=("spent", "reserved"))
    if changes.alerts:
        await insert_ignoring_conflicts(tx.conn, alerts, changes.alerts)
        await _announce_new_alerts(tx, changes.alerts)


async def _announce_new_alerts(tx: Tx, candidates: list[dict[str, Any]]) -> None:
    """One webhook per alert actually recorded: a crossing already alerted this period (the insert was
    ignored) is not announced again. The alert's kind is the event type.

    budget.exceeded therefore follows the alert rule: spend went past the amount, which only an "alert"
    budget allows (a blocking budget refuses such a spend and writes nothing). Add 100 to a budget's
    thresholds to hear budget.threshold_reached when spend reaches its amount exactly.
    """
    ids = [a["id"] for a in candidates]
    recorded = set((await tx.conn.execute(select(alerts.c.id).where(alerts.c.id.in_(ids)))).scalars())
    for alert in candidates:
        if alert["id"] in recorded:
            await emit(tx, alert["kind"], {"alert": alert_data(alert)})


def alert_data(alert: dict[str, Any]) -> dict[str, Any]:
    """The alert as webhooks carry it: the fields GET /v1/alerts shows."""
    unit = alert["unit"]
    return {
        "object": "alert", "id": alert["id"], "kind": alert["kind"], "customer": alert["customer_id"],
        "budget": alert["budget_id"], "period_start": timestamp_text(alert["period_start"]),
        "threshold": alert["threshold"], "currency": unit,
        "budget_amount": amount_text(alert["budget_amount"], unit), "spent": amount_text(alert["spent"], unit),
        "created_at": timestamp_text(alert["created_at"]),
    }


def check_hold(states: Iterable[BudgetState], api_key_id: str | None, amount: int) -> list[BudgetState]:
    """The budgets (of the wallet's loaded ones) a hold of `amount` would reserve of; BudgetExceeded (before
    anything is written) if a blocking one cannot allow it."""
    watching = applicable(states, api_key_id)
    check(watching, amount)
    return watching


async def reserve_for_hold(tx: Tx, states: list[BudgetState], hold_id: str, amount: int) -> None:
    """Reserve `amount` of each budget `check_hold` returned, for the hold just written."""
    if not states:
        return
    changes = BudgetChanges()
    for budget in states:
        budget.reserved += amount
        changes.add(budget.id, budget.period_start, reserved=amount)
    await tx.conn.execute(
        hold_budgets.insert(),
        [{"hold_id": hold_id, "budget_id": b.id, "period_start": b.period_start, "reserved": amount} for b in states],
    )
    await write_changes(tx, changes)


_RESERVATIONS = select(hold_budgets).where(
    hold_budgets.c.hold_id == bindparam("hold_id"), hold_budgets.c.reserved > 0
)


async def _reservations(tx: Tx, hold_id: str) -> list[Any]:
    return list(await tx.conn.execute(_RESERVATIONS, {"hold_id": hold_id}))


async def capture_for_hold(
    tx: Tx,
    wallet: WalletState,
    api_key_id: str | None,
    hold_id: str,
    amount: int,
    hold_reserved: int,
    *,
    final: bool,
    reserves_budget: bool = True,
) -> None:
    """Turn the hold's reservations into spend, and on a final capture give back the rest (what
    release_for_hold would, without reading the reservations again). Only the part beyond what the hold
    still reserves (an over-capture) is checked against blocking budgets, so a capture within the hold never
    fails here. `reserves_budget=False` when the caller knows the hold reserves no budget (saves a query)."""
    reservations = {row.budget_id: row for row in await _reservations(tx, hold_id)} if reserves_budget else {}
    if not wallet.budgeted and not reservations:
        return
    periods = {budget_id: row.period_start for budget_id, row in reservations.items()}
    states = applicable((await load_budgets(tx, [wallet], periods=periods)).get(wallet.id, []), api_key_id)
    check(states, amount - hold_reserved)
    changes = BudgetChanges()
    for budget in states:
        reservation = reservations.get(budget.id)
        consumed = min(amount, reservation.reserved) if reservation is not None else 0
        budget.reserved -= consumed
        changes.add(budget.id, budget.period_start, reserved=-consumed)
    record_spend(changes, states, amount, tx.now)
    # Budgets archived since the hold was placed only give their reservation back.
    counted = {b.id for b in states}
    for budget_id, row in reservations.items():
        if budget_id not in counted:
            changes.add(budget_id, row.period_start, reserved=-min(amount, row.reserved))
    for row in reservations.values():
        rest = row.reserved - min(amount, row.reserved)
        if final and rest:
            changes.add(row.budget_id, row.period_start, reserved=-rest)
        await tx.conn.execute(
            update(hold_budgets)
            .where(hold_budgets.c.hold_id == hold_id, hold_budgets.c.budget_id == row.budget_id)
            .values(reserved=0 if final else rest)
        )
    await write_changes(tx, changes)


async def release_for_hold(tx: Tx, hold_id: str) -> None:
    """Give back what an ending hold (voided, expired, or the rest after a final capture) still reserves."""
    rows = await _reservations(tx, hold_id)
    if not rows:
        return
    changes = BudgetChanges()
    for row in rows:
        changes.add(row.budget_id, row.period_start, reserved=-row.reserved)
    await tx.conn.execute(update(hold_budgets).where(hold_budgets.c.hold_id == hold_id).values(reserved=0))
    await write_changes(tx, changes)
