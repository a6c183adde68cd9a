"""Budgets: spending caps per customer (or per customer API key), per calendar period, and their alerts.

What happens at spend time lives in guard.py; this module creates, changes and reads budgets. A
wallet carries a `budgeted` flag while any active budget watches it, so the spend path reads budgets
only for wallets that have one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exists, select, update

from creditflow.budgets.guard import (
    BudgetState,
    applicable,
    current_period_start,
    load_budgets,
    load_usage,
    tightest,
)
from creditflow.customers.service import get_customer
from creditflow.db.pagination import newest_first
from creditflow.db.tables import alerts, budget_resets, budgets, customer_api_keys, wallets
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound, WalletNotFound
from creditflow.ids import new_id
from creditflow.ledger.models import WalletState
from creditflow.periods import period_end, period_start

ACTIONS = ("block", "alert")


@dataclass(slots=True)
class Budget:
    id: str
    customer_id: str
    api_key_id: str | None
    unit: str
    amount: int
    period: str
    timezone: str
    thresholds: list[int]
    action: str
    status: str
    created_at: datetime
    updated_at: datetime
    period_start: datetime
    period_end: datetime | None
    spent: int
    reserved: int
    reset_at: datetime | None

    @property
    def remaining(self) -> int:
        return max(self.amount - self.spent - self.reserved, 0)


@dataclass(slots=True)
class Alert:
    id: str
    kind: str
    customer_id: str
    budget_id: str
    period_start: datetime
    threshold: int
    unit: str
    budget_amount: int
    spent: int
    created_at: datetime


async def _owner(tx: Tx, customer_ref: str | None, api_key_id: str | None) -> tuple[str, str | None]:
    """The customer a new budget belongs to: given directly, or the owner of the API key (or both, agreeing)."""
    customer = await get_customer(tx, customer_ref) if customer_ref is not None else None
    if api_key_id is None:
        if customer is None:
            raise InvalidRequest("a budget needs a customer or an api_key", param="customer")
        return customer.id, None
    key = (
        await tx.conn.execute(select(customer_api_keys).where(customer_api_keys.c.id == api_key_id))
    ).first()
    if key is None or (customer is not None and key.customer_id != customer.id):
        raise NotFound(f"no API key '{api_key_id}'" + (" for this customer" if customer else ""), param="api_key")
    return key.customer_id, key.id


async def _set_budgeted(tx: Tx, customer_id: str, unit: str) -> None:
    """Keep the wallet's flag true exactly while an active budget watches it (the wallet row is locked)."""
    watched = exists().where(
        budgets.c.customer_id == customer_id, budgets.c.unit == unit, budgets.c.status == "active"
    )
    await tx.conn.execute(
        update(wallets)
        .where(wallets.c.customer_id == customer_id, wallets.c.unit == unit)
        .values(budgeted=select(watched).scalar_subquery())
    )


async def create_budget(
    tx: Tx,
    *,
    customer: str | None,
    api_key: str | None,
    amount: int,
    unit: str | None,
    period: str,
    timezone: str,
    thresholds: list[int],
    action: str,
) -> Budget:
    customer_id, api_key_id = await _owner(tx, customer, api_key)
    if unit is None:
        unit = (await get_customer(tx, customer_id)).currency
    wallet = (
        await tx.conn.execute(
            select(wallets.c.id).where(wallets.c.customer_id == customer_id, wallets.c.unit == unit).with_for_update()
        )
    ).first()
    if wallet is None:
        raise WalletNotFound(f"the customer has no wallet in {unit}", param="currency")
    budget_id = new_id("bdg")
    await tx.conn.execute(
        budgets.insert().values(
            id=budget_id, customer_id=customer_id, api_key_id=api_key_id, unit=unit, amount=amount, period=period,
            timezone=timezone, thresholds=sorted(set(thresholds)), action=action, status="active",
            created_at=tx.now, updated_at=tx.now,
        )
    )
    await _set_budgeted(tx, customer_id, unit)
    return await get_budget(tx, budget_id)


async def get_budget(tx: Tx, budget_id: str) -> Budget:
    row = (await tx.conn.execute(select(budgets).where(budgets.c.id == budget_id))).first()
    if row is None:
        raise NotFound(f"no budget '{budget_id}'", param="id")
    return (await _with_usage(tx, [row]))[0]


async def _with_usage(tx: Tx, rows: list[Any]) -> list[Budget]:
    """Budgets with their spend and reservations in the period containing tx.now."""
    starts = {row.id: current_period_start(row, tx.now) for row in rows}
    usage = await load_usage(tx, set(starts.items()))
    budgets_out = []
    for row in rows:
        start = starts[row.id]
        spent, reserved = usage.get((row.id, start), (0, 0))
        budgets_out.append(
            Budget(
                id=row.id, customer_id=row.customer_id, api_key_id=row.api_key_id, unit=row.unit, amount=row.amount,
                period=row.period, timezone=row.timezone, thresholds=list(row.thresholds), action=row.action,
                status=row.status, created_at=row.created_at, updated_at=row.updated_at, period_start=start,
                # A reset period ends where the calendar's would have.
                period_end=period_end(row.period, period_start(row.period, tx.now, row.timezone), row.timezone),
                spent=spent, reserved=reserved, reset_at=row.reset_at,
            )
        )
    return budgets_out


async def list_budgets(
    tx: Tx, *, customer: str | None, api_key: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Budget]:
    query = newest_first(select(budgets), budgets.c.id, limit=limit, starting_after=starting_after)
    if customer is not None:
        query = query.where(budgets.c.customer_id == (await get_customer(tx, customer)).id)
    if api_key is not None:
        query = query.where(budgets.c.api_key_id == api_key)
    if status is not None:
        query = query.where(budgets.c.status == status)
    return await _with_usage(tx, list((await tx.conn.execute(query)).all()))


async def update_budget(
    tx: Tx, budget_id: str, *, amount: int | None, thresholds: list[int] | None, action: str | None
) -> Budget:
    """Change the cap, thresholds or action; spend already counted in the period stays counted."""
    budget = await get_budget(tx, budget_id)
    if budget.status != "active":
        raise Conflict(f"budget {budget_id} is archived", param="id")
    changes: dict[str, Any] = {"updated_at": tx.now}
    if amount is not None:
        changes["amount"] = amount
    if thresholds is not None:
        changes["thresholds"] = sorted(set(thresholds))
    if action is not None:
        changes["action"] = action
    await tx.conn.execute(update(budgets).where(budgets.c.id == budget_id).values(**changes))
    return await get_budget(tx, budget_id)


async def archive_budget(tx: Tx, budget_id: str) -> Budget:
    """Stop watching spend. Reservations of active holds are still given back when those holds end."""
    budget = await get_budget(tx, budget_id)
    if budget.status != "active":
        raise Conflict(f"budget {budget_id} is already archived", param="id")
    await tx.conn.execute(
        update(budgets).where(budgets.c.id == budget_id).values(status="archived", updated_at=tx.now)
    )
    await _set_budgeted(tx, budget.customer_id, budget.unit)
    return await get_budget(tx, budget_id)


async def reset_budget(tx: Tx, budget_id: str) -> Budget:
    """Start a new period now: spend counts from zero until the calendar period ends (then periods roll as
    usual). Holds placed before keep their reservation in the period they reserved in. The reset is recorded
    with its actor and what the period left behind had used."""
    budget = await get_budget(tx, budget_id)
    if budget.status != "active":
        raise Conflict(f"budget {budget_id} is archived", param="id")
    await tx.conn.execute(
        budget_resets.insert().values(
            id=new_id("bres"), budget_id=budget.id, customer_id=budget.customer_id,
            previous_period_start=budget.period_start, spent=budget.spent, reserved=budget.reserved,
            actor=tx.actor, created_at=tx.now,
        )
    )
    await tx.conn.execute(
        update(budgets).where(budgets.c.id == budget_id).values(reset_at=tx.now, updated_at=tx.now)
    )
    return await get_budget(tx, budget_id)


async def tightest_budget(tx: Tx, wallet: WalletState, api_key_id: str | None) -> BudgetState | None:
    """Of the budgets that would count a spend from this wallet with this key, the one with least left."""
    if not wallet.budgeted:
        return None
    return tightest(applicable((await load_budgets(tx, [wallet])).get(wallet.id, []), api_key_id))


async def list_alerts(
    tx: Tx,
    *,
    customer: str | None,
    budget: str | None,
    kind: str | None,
    limit: int,
    starting_after: str | None,
) -> list[Alert]:
    query = newest_first(select(alerts), alerts.c.id, limit=limit, starting_after=starting_after)
    if customer is not None:
        query = query.where(alerts.c.customer_id == (await get_customer(tx, customer)).id)
    if budget is not None:
        query = query.where(alerts.c.budget_id == budget)
    if kind is not None:
        query = query.where(alerts.c.kind == kind)
    return [
        Alert(
            id=r.id, kind=r.kind, customer_id=r.customer_id, budget_id=r.budget_id, period_start=r.period_start,
            threshold=r.threshold, unit=r.unit, budget_amount=r.budget_amount, spent=r.spent, created_at=r.created_at,
        )
        for r in (await tx.conn.execute(query)).all()
    ]
