"""Renewal: at the end of each period the next one is charged from the balance. A short balance makes the
subscription past_due, retried daily for the grace period, then suspended; a top-up while past_due or
suspended renews it at once (a suspended one starts a fresh period then, since it had no service).

Each step runs in its own transaction with the subscription's row locked and re-read, and a period is charged
at most once (subscription_charges is unique per period), so any number of runners, retries and top-ups can
race and a subscription still moves once. A period missed while nothing ran is caught up on the next pass.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.billing.collection import collect_open_invoices
from creditflow.clock import Clock
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import InsufficientFunds
from creditflow.invoices.models import Issuer
from creditflow.mail import messages
from creditflow.mail.outbox import queue_for_customer
from creditflow.subscriptions import events, repository
from creditflow.subscriptions.charging import charge_period
from creditflow.subscriptions.intervals import period_bound
from creditflow.subscriptions.models import (
    ACTIVE,
    CANCELED,
    LIVE,
    PAST_DUE,
    SUSPENDED,
    TRIALING,
    UNPAID,
    Plan,
    Subscription,
)
from creditflow.subscriptions.plans import get_plan

log = logging.getLogger("creditflow.subscriptions")

JOB_ACTOR = "system:subscriptions"
BATCH = 100
RETRY_EVERY = timedelta(days=1)


async def renew_due(engine: AsyncEngine, clock: Clock, issuer: Issuer, *, grace: timedelta) -> int:
    """Renew, retry, cancel or suspend every subscription whose time has come; returns the steps taken."""
    steps = 0
    while True:
        async with engine.begin() as conn:
            due = await repository.due_subscriptions(Tx(conn=conn, now=clock.now(), actor=JOB_ACTOR),
                                                     now=clock.now(), limit=BATCH)
        for subscription_id in due:
            async with engine.begin() as conn:
                await renew(Tx(conn=conn, now=clock.now(), actor=JOB_ACTOR), subscription_id, issuer, grace=grace)
        steps += len(due)
        # A period that ended while nothing ran is followed by one that may have ended too: go round again.
        if len(due) < BATCH and not await _more_due(engine, clock):
            return steps


async def _more_due(engine: AsyncEngine, clock: Clock) -> bool:
    async with engine.begin() as conn:
        tx = Tx(conn=conn, now=clock.now(), actor=JOB_ACTOR)
        return bool(await repository.due_subscriptions(tx, now=clock.now(), limit=1))


async def renew(tx: Tx, subscription_id: str, issuer: Issuer, *, grace: timedelta) -> None:
    subscription = await repository.load_subscription(tx, subscription_id, for_update=True)
    if (subscription is None or subscription.status not in LIVE or subscription.next_attempt_at is None
            or subscription.next_attempt_at > tx.now):
        return  # another runner took this step first
    if subscription.status == PAST_DUE:
        await _retry(tx, subscription, issuer, grace=grace)
    elif subscription.cancel_at_period_end:
        await _end(tx, subscription, at=subscription.current_period_end)
    else:
        await _next_period(tx, subscription, issuer, grace=grace)


async def renew_unpaid(tx: Tx, customer_id: str, issuer: Issuer) -> int:
    """After a top-up: collect the customer's open invoices first, then renew its past_due and suspended
    subscriptions that the balance now covers."""
    if not await collect_open_invoices(tx, customer_id):
        return 0
    renewed = 0
    for subscription_id in await repository.unpaid_of_customer(tx, customer_id, UNPAID):
        subscription = await repository.load_subscription(tx, subscription_id, for_update=True)
        assert subscription is not None
        if subscription.status == SUSPENDED:
            renewed += await _restart(tx, subscription, issuer)
        elif subscription.status == PAST_DUE:
            renewed += await _charge_current(tx, subscription, await get_plan(tx, subscription.plan_id), issuer)
    return renewed


async def _end(tx: Tx, subscription: Subscription, *, at: datetime) -> None:
    await repository.update_subscription(tx, subscription.id, status=CANCELED, canceled_at=at, next_attempt_at=None)
    await _emit(tx, "subscription.canceled", subscription.id)


async def _next_period(tx: Tx, subscription: Subscription, issuer: Issuer, *, grace: timedelta) -> None:
    """Move into the next period (the first one after a trial) on the plan it renews on, and charge it."""
    plan = await get_plan(tx, subscription.next_plan_id or subscription.plan_id)
    timezone = (await get_customer(tx, subscription.customer_id)).timezone
    index = 0 if subscription.status == TRIALING else subscription.period_index + 1
    start = period_bound(subscription.anchor_at, plan.interval, index, timezone)
    end = period_bound(subscription.anchor_at, plan.interval, index + 1, timezone)
    await repository.update_subscription(
        tx, subscription.id, plan_id=plan.id, next_plan_id=None, period_index=index, current_period_start=start,
        current_period_end=end,
    )
    moved = await repository.load_subscription(tx, subscription.id)
    assert moved is not None
    if not await _charge_current(tx, moved, plan, issuer):
        await fall_past_due(tx, moved, plan, grace=grace)


async def mark_past_due(tx: Tx, customer_id: str, *, grace: timedelta) -> None:
    """An invoice of the customer is left with an amount due: its active subscriptions become past_due, and
    their retries collect that invoice first."""
    for subscription_id in await repository.unpaid_of_customer(tx, customer_id, (ACTIVE,)):
        subscription = await repository.load_subscription(tx, subscription_id, for_update=True)
        assert subscription is not None
        await fall_past_due(tx, subscription, await get_plan(tx, subscription.plan_id), grace=grace)


async def fall_past_due(tx: Tx, subscription: Subscription, plan: Plan, *, grace: timedelta) -> None:
    await repository.update_subscription(
        tx, subscription.id, status=PAST_DUE, past_due_since=tx.now, next_attempt_at=tx.now + RETRY_EVERY
    )
    await _emit(tx, "subscription.past_due", subscription.id)
    await queue_for_customer(tx, subscription.customer_id, messages.subscription_past_due(
        plan.name, plan.amount, plan.currency, grace.days,
    ))


async def _retry(tx: Tx, subscription: Subscription, issuer: Issuer, *, grace: timedelta) -> None:
    plan = await get_plan(tx, subscription.plan_id)
    if await collect_open_invoices(tx, subscription.customer_id) and await _charge_current(
        tx, subscription, plan, issuer
    ):
        return
    assert subscription.past_due_since is not None
    if tx.now >= subscription.past_due_since + grace:
        await repository.update_subscription(tx, subscription.id, status=SUSPENDED, next_attempt_at=None)
        await _emit(tx, "subscription.suspended", subscription.id)
        await queue_for_customer(tx, subscription.customer_id, messages.subscription_suspended(
            plan.name, plan.amount, plan.currency,
        ))
    else:
        await repository.update_subscription(tx, subscription.id, next_attempt_at=tx.now + RETRY_EVERY)


async def _restart(tx: Tx, subscription: Subscription, issuer: Issuer) -> int:
    """A suspended subscription had no service: it starts a fresh period now, anchored here."""
    plan = await get_plan(tx, subscription.plan_id)
    timezone = (await get_customer(tx, subscription.customer_id)).timezone
    end = period_bound(tx.now, plan.interval, 1, timezone)
    if not await _charge(tx, subscription, plan, issuer, start=tx.now, end=end):
        return 0
    await repository.update_subscription(
        tx, subscription.id, status=ACTIVE, anchor_at=tx.now, period_index=0, current_period_start=tx.now,
        current_period_end=end, past_due_since=None, next_attempt_at=end,
    )
    await _emit(tx, "subscription.renewed", subscription.id)
    return 1


async def _charge_current(tx: Tx, subscription: Subscription, plan: Plan, issuer: Issuer) -> int:
    """Charge the current period; on success the subscription is active until its end. Returns 1 or 0."""
    start, end = subscription.current_period_start, subscription.current_period_end
    if not await _charge(tx, subscription, plan, issuer, start=start, end=end):
        return 0
    await repository.update_subscription(
        tx, subscription.id, status=ACTIVE, past_due_since=None, next_attempt_at=end
    )
    await _emit(tx, "subscription.renewed", subscription.id)
    return 1


async def _charge(
    tx: Tx, subscription: Subscription, plan: Plan, issuer: Issuer, *, start: datetime, end: datetime
) -> bool:
    # charge_period checks the balance before it writes anything, so a refusal needs no savepoint.
    try:
        await charge_period(tx, subscription, plan, period_start=start, period_end=end, issuer=issuer)
    except InsufficientFunds:
        return False
    return True


async def _emit(tx: Tx, event_type: str, subscription_id: str) -> None:
    subscription = await repository.load_subscription(tx, subscription_id)
    assert subscription is not None
    await events.emit_subscription(tx, event_type, subscription, await get_plan(tx, subscription.plan_id))
