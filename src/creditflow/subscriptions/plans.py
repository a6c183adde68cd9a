"""Plans: a price per week, month or year paid from the balance, with optional included credits and trial."""

from __future__ import annotations

from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.invoices.totals import to_minor
from creditflow.subscriptions import repository
from creditflow.subscriptions.models import Plan

MAX_TRIAL_DAYS = 730


class PlanCodeTaken(Conflict):
    code = "plan_code_taken"


class PlanArchived(Conflict):
    code = "plan_archived"


async def create_plan(
    tx: Tx,
    *,
    code: str,
    name: str,
    interval: str,
    amount: int,
    currency: str,
    included_credits: int | None = None,
    included_unit: str | None = None,
    rollover: bool = False,
    trial_days: int = 0,
    paid_credits_only: bool = True,
) -> Plan:
    if await repository.load_plan_by_code(tx, code) is not None:
        raise PlanCodeTaken(f"a plan with code '{code}' exists", param="code")
    # Each charge becomes an invoice line, so the price must be whole minor units of its currency.
    to_minor(amount, currency, param="price.amount")
    if not 0 <= trial_days <= MAX_TRIAL_DAYS:
        raise InvalidRequest(f"trial_days is 0 to {MAX_TRIAL_DAYS}", param="trial_days")
    if included_credits is None and (included_unit is not None or rollover):
        raise InvalidRequest("rollover and a currency need included_credits.amount", param="included_credits")
    plan_id = new_id("pln")
    await repository.insert_plan(
        tx, id=plan_id, code=code, name=name, interval=interval, currency=currency, amount=amount,
        included_credits=included_credits,
        included_unit=(included_unit or currency) if included_credits is not None else None,
        rollover=rollover, trial_days=trial_days, paid_credits_only=paid_credits_only,
    )
    return await get_plan(tx, plan_id)


async def get_plan(tx: Tx, ref: str) -> Plan:
    """A plan by id or code."""
    plan = await repository.load_plan(tx, ref) or await repository.load_plan_by_code(tx, ref)
    if plan is None:
        raise NotFound(f"no plan '{ref}'", param="plan")
    return plan


async def active_plan(tx: Tx, ref: str) -> Plan:
    """A plan that can still be subscribed to."""
    plan = await get_plan(tx, ref)
    if plan.status != "active":
        raise PlanArchived(f"plan '{plan.code}' is archived", param="plan")
    return plan


async def list_plans(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Plan]:
    return await repository.list_plans(tx, status=status, limit=limit, starting_after=starting_after)


async def archive_plan(tx: Tx, ref: str) -> Plan:
    """No new subscriptions; existing subscribers keep it and renew on it."""
    plan = await get_plan(tx, ref)
    await repository.archive_plan(tx, plan.id)
    return await get_plan(tx, plan.id)
