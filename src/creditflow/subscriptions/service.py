"""Subscriptions: start one (charging its first period at once, or when the trial ends), read, cancel, and
change plan (an upgrade now, prorated to the second; a downgrade at the period's end).

Services run in the caller's transaction. A request the balance cannot pay for raises InsufficientFunds
before anything is written, so the request changes nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from creditflow import money
from creditflow.coupons import service as coupons
from creditflow.coupons.models import Coupon
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InsufficientFunds, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.invoices.models import Issuer, LineInput
from creditflow.ledger.grants import grant_credits
from creditflow.ledger.models import PROMOTIONAL
from creditflow.subscriptions import events, repository
from creditflow.subscriptions.charging import SOURCE, charge_period, draw_for_plan, invoice_paid_from_balance
from creditflow.subscriptions.intervals import period_bound
from creditflow.subscriptions.models import ACTIVE, CANCELED, TRIALING, Plan, Subscription
from creditflow.subscriptions.plans import active_plan, get_plan
from creditflow.subscriptions.renewals import fall_past_due
from creditflow.wallets.lookup import resolve_wallet


class SubscriptionNotActive(Conflict):
    code = "subscription_not_active"


async def get_subscription(tx: Tx, subscription_id: str, *, for_update: bool = False) -> Subscription:
    subscription = await repository.load_subscription(tx, subscription_id, for_update=for_update)
    if subscription is None:
        raise NotFound(f"no subscription '{subscription_id}'", param="id")
    return subscription


async def list_subscriptions(
    tx: Tx, *, customer_id: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Subscription]:
    return await repository.list_subscriptions(
        tx, customer_id=customer_id, status=status, limit=limit, starting_after=starting_after
    )


async def create_subscription(
    tx: Tx, *, customer: str, plan: str, start_at: datetime | None, issuer: Issuer,
    grace: timedelta | None = None, coupon: str | None = None,
) -> Subscription:
    """With `grace` (the Lago API) a first charge the balance cannot pay still creates the subscription, past_due
    and retried like a failed renewal; without it the shortfall is an InsufficientFunds that writes nothing."""
    owner = await get_customer(tx, customer)
    chosen = await active_plan(tx, plan)
    start = start_at or tx.now
    if start > tx.now:
        raise InvalidRequest("start_at must not be in the future", param="start_at")
    if period_bound(start, chosen.interval, 1, owner.timezone) <= tx.now:
        raise InvalidRequest(f"start_at must be within the last {chosen.interval}", param="start_at")
    await resolve_wallet(tx, owner.id, chosen.currency)  # a clear 4xx now rather than at the first charge
    usable = None
    if coupon is not None:
        usable = await coupons.effect_on_subscription(
            tx, coupon, customer_id=owner.id, currency=chosen.currency, amount=chosen.amount
        )
    subscription_id = new_id("sub")
    if chosen.trial_days:
        trial_end = start + timedelta(days=chosen.trial_days)
        await repository.insert_subscription(
            tx, id=subscription_id, customer_id=owner.id, plan_id=chosen.id, status=TRIALING, anchor_at=trial_end,
            period_index=0, current_period_start=start, current_period_end=trial_end, trial_end=trial_end,
            cancel_at_period_end=False, next_attempt_at=trial_end,
        )
        await _redeem(tx, usable, owner.id, subscription_id)
    else:
        end = period_bound(start, chosen.interval, 1, owner.timezone)
        await repository.insert_subscription(
            tx, id=subscription_id, customer_id=owner.id, plan_id=chosen.id, status=ACTIVE, anchor_at=start,
            period_index=0, current_period_start=start, current_period_end=end, cancel_at_period_end=False,
            next_attempt_at=end,
        )
        await _redeem(tx, usable, owner.id, subscription_id)
        created = await get_subscription(tx, subscription_id)
        try:
            await charge_period(tx, created, chosen, period_start=start, period_end=end, issuer=issuer)
        except InsufficientFunds:
            if grace is None:
                raise
            # draw_for_plan refuses before writing anything, so there is nothing to undo.
            await fall_past_due(tx, created, chosen, grace=grace)
    subscription = await get_subscription(tx, subscription_id)
    await events.emit_subscription(tx, "subscription.created", subscription, chosen)
    return subscription


async def _redeem(tx: Tx, coupon: Coupon | None, customer_id: str, subscription_id: str) -> None:
    # Before the first charge, which takes the discount.
    if coupon is not None:
        await coupons.redeem_for_subscription(tx, coupon, customer_id=customer_id, subscription_id=subscription_id)


async def cancel_subscription(tx: Tx, subscription_id: str, *, at_period_end: bool) -> Subscription:
    """At the period's end: it stays active until then, and does not renew. Now: it ends at once; what was paid
    for the current period is not given back."""
    subscription = await get_subscription(tx, subscription_id, for_update=True)
    if subscription.status == CANCELED:
        raise SubscriptionNotActive(f"subscription '{subscription_id}' is already canceled")
    if at_period_end and subscription.status in (ACTIVE, TRIALING):
        await repository.update_subscription(tx, subscription_id, cancel_at_period_end=True)
        return await get_subscription(tx, subscription_id)
    await repository.update_subscription(
        tx, subscription_id, status=CANCELED, canceled_at=tx.now, next_attempt_at=None, cancel_at_period_end=False
    )
    canceled = await get_subscription(tx, subscription_id)
    await events.emit_subscription(tx, "subscription.canceled", canceled, await get_plan(tx, canceled.plan_id))
    return canceled


async def change_plan(tx: Tx, subscription_id: str, *, plan: str, issuer: Issuer) -> Subscription:
    """A dearer plan applies now: the unused share of this period's charge is credited and the new plan's share
    charged, both linear in the seconds left. A cheaper (or equal) one applies from the next period."""
    subscription = await get_subscription(tx, subscription_id, for_update=True)
    if subscription.status not in (ACTIVE, TRIALING):
        raise SubscriptionNotActive(f"subscription '{subscription_id}' is {subscription.status}; only an active "
                                    "one changes plan", param="id")
    current, new = await get_plan(tx, subscription.plan_id), await active_plan(tx, plan)
    if (new.currency, new.interval) != (current.currency, current.interval):
        raise InvalidRequest(f"the new plan must also be {current.currency} per {current.interval}", param="plan")
    if new.id == current.id:
        await repository.update_subscription(tx, subscription_id, next_plan_id=None)
    elif subscription.status == TRIALING:
        await repository.update_subscription(tx, subscription_id, plan_id=new.id, next_plan_id=None)
    elif new.amount > current.amount:
        await _upgrade(tx, subscription, current, new, issuer)
    else:
        await repository.update_subscription(tx, subscription_id, next_plan_id=new.id)
    return await get_subscription(tx, subscription_id)


def _share(amount: int, left: timedelta, whole: timedelta, unit: str) -> int:
    """amount * left / whole, rounded half-up once to the currency's minor units (it becomes an invoice line)."""
    return money.round_to_minor(amount * int(left.total_seconds()) // int(whole.total_seconds()), unit)


async def _upgrade(tx: Tx, subscription: Subscription, current: Plan, new: Plan, issuer: Issuer) -> None:
    start, end = subscription.current_period_start, subscription.current_period_end
    left, whole = end - tx.now, end - start
    credit, charge = (_share(plan.amount, left, whole, new.currency) for plan in (current, new))
    description = f"Upgrade to {new.name} until {end:%Y-%m-%d}"
    operation_id = await draw_for_plan(tx, subscription.customer_id, new, charge - credit, description=description)
    lines = [LineInput(description=f"{new.name}: rest of the period to {end:%Y-%m-%d}", amount=charge)]
    if credit:
        lines.append(LineInput(description=f"Unused time on {current.name}", amount=-credit))
    invoice_id = await invoice_paid_from_balance(tx, subscription, new.currency, lines, issuer, operation_id)
    grant_id = None
    extra = _included_difference(current, new)
    if extra > 0:
        grant = await grant_credits(
            tx, customer=subscription.customer_id, amount=max(extra * int(left.total_seconds())
                                                              // int(whole.total_seconds()), 1),
            unit=new.included_unit, category=PROMOTIONAL, expires_at=None if new.rollover else end, source=SOURCE,
            description=f"Included with {new.name} (rest of the period)",
            metadata={"subscription_id": subscription.id},
        )
        grant_id = grant.id
    await repository.insert_charge(
        tx, id=new_id("sch"), subscription_id=subscription.id, plan_id=new.id, period_start=start, kind="upgrade",
        amount=charge - credit, operation_id=operation_id, invoice_id=invoice_id, grant_id=grant_id,
    )
    await repository.update_subscription(tx, subscription.id, plan_id=new.id, next_plan_id=None)


def _included_difference(current: Plan, new: Plan) -> int:
    """The new plan's included credits beyond the current one's (in the same unit), for the rest of a period."""
    if not new.included_credits:
        return 0
    if current.included_credits and current.included_unit == new.included_unit:
        return new.included_credits - current.included_credits
    return new.included_credits
