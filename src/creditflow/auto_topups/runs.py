"""The auto top-up job: for each wallet whose available balance is below its threshold, charge the customer's
saved payment method off-session (Stripe), or, with no method to charge, email a payment link.

Each crossing starts one attempt, recorded (pending) before any gateway call, so two runners never charge for
the same crossing and a crash leaves a record to finish: the next pass asks again under the same idempotency
key, which finds the same top-up and the same payment instead of charging twice. At most `max_per_day`
attempts that took or may take money in any 24 hours; a failed one backs off exponentially and raises
auto_topup.failed; a paid one raises auto_topup.succeeded. Checking on a schedule keeps the spend path free
of it, as for low-balance alerts."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from creditflow.auto_topups import repository
from creditflow.auto_topups.amounts import charge_amount
from creditflow.auto_topups.models import CHARGE, FAILED, LINK, PENDING, SUCCEEDED, Attempt, AutoTopup
from creditflow.db.tx import Tx
from creditflow.errors import DomainError
from creditflow.ids import new_id
from creditflow.ledger.repository import lock_wallet
from creditflow.mail import messages
from creditflow.mail.outbox import queue_for_customer
from creditflow.payment_methods import repository as payment_methods
from creditflow.payment_methods.models import ACTIVE
from creditflow.payment_methods.service import DECLINED, EXPIRED_UNPAID, PAID, REQUIRES_ACTION, charge_saved
from creditflow.payments.gateways.errors import GatewayUnavailable
from creditflow.topups.context import Context
from creditflow.topups.models import CREDITED
from creditflow.topups.models import EXPIRED as TOPUP_EXPIRED
from creditflow.topups.models import FAILED as TOPUP_FAILED
from creditflow.topups.service import charge_step, create_topup, get_topup
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text

log = logging.getLogger("creditflow.auto_topups")

ACTOR = "system:auto_topup"
WINDOW = timedelta(hours=24)
# After the n-th failure in a row: wait 1 h, 2 h, 4 h, ... at most a day.
BACKOFF_FIRST = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=24)
# A link attempt whose top-up was never opened (the process stopped in between) is given up after this.
LINK_OPENING = timedelta(minutes=10)


def backoff(failures: int) -> timedelta:
    return min(BACKOFF_FIRST * 2 ** min(failures - 1, 16), BACKOFF_MAX)


async def run_auto_topups(ctx: Context) -> int:
    """Finish the attempts under way, then start one for each wallet below its threshold; returns how many
    attempts were started."""
    async with ctx.transaction() as tx:
        pending = await repository.pending_attempt_ids(tx)
    for attempt_id in pending:
        await _follow(ctx, attempt_id)
    async with ctx.transaction() as tx:
        due = await repository.due_wallet_ids(tx, tx.now)
    started = 0
    for wallet_id in due:
        attempt = await _start(ctx, wallet_id)
        if attempt is None:
            continue
        started += 1
        if attempt.kind == CHARGE:
            await _charge(ctx, attempt)
        else:
            await _send_link(ctx, attempt)
    return started


async def _start(ctx: Context, wallet_id: str) -> Attempt | None:
    """Record an attempt for this wallet if it is due one: below its threshold, not backing off, nothing under
    way, under its daily limit. Locks the settings and the wallet, so one runner records it."""
    async with ctx.transaction() as tx:
        settings = await repository.load(tx, wallet_id, for_update=True)
        if settings is None or (settings.retry_at is not None and settings.retry_at > tx.now):
            return None
        wallet = await lock_wallet(tx, wallet_id)
        if wallet is None or wallet.available >= settings.threshold:
            return None
        if await repository.has_pending(tx, wallet_id):
            return None
        if await repository.count_since(tx, wallet_id, tx.now - WINDOW) >= settings.max_per_day:
            return None
        method_id, gateway_name = await _payment_route(tx, settings)
        attempt_id = new_id("atu")
        if gateway_name is None:
            await repository.insert_attempt(
                tx, id=attempt_id, wallet_id=wallet_id, customer_id=settings.customer_id, kind=CHARGE,
                status=PENDING, currency=settings.currency, amount=0, payment_method_id=None,
            )
            await _close(tx, attempt_id, FAILED, reason="no saved payment method to charge and no link_gateway")
            return None
        gateway = ctx.gateways.get(gateway_name)
        amount = charge_amount(
            settings, wallet.available, ctx.settings.topup_rules.get(settings.currency),
            charge_step(gateway, settings.currency),
        )
        await repository.insert_attempt(
            tx, id=attempt_id, wallet_id=wallet_id, customer_id=settings.customer_id,
            kind=CHARGE if method_id else LINK, status=PENDING, currency=settings.currency, amount=amount,
            payment_method_id=method_id,
        )
        return await repository.load_attempt(tx, attempt_id)


async def _payment_route(tx: Tx, settings: AutoTopup) -> tuple[str | None, str | None]:
    """(saved method to charge, its gateway), or (None, the link gateway), or (None, None): no way to be paid.
    The settings' own method if it is still active, else the customer's default."""
    for method_id in (settings.payment_method_id, await repository.default_method_id(tx, settings.customer_id)):
        if method_id is None:
            continue
        method = await payment_methods.load(tx, settings.customer_id, method_id)
        if method is not None and method.status == ACTIVE:
            return method.id, method.gateway
    return None, settings.link_gateway


async def _follow(ctx: Context, attempt_id: str) -> None:
    """Carry an attempt under way forward: a charge is asked about again under its key; a link is settled by
    its top-up."""
    async with ctx.transaction() as tx:
        attempt = await repository.load_attempt(tx, attempt_id)
        if attempt is None or attempt.status != PENDING:
            return
        if attempt.kind == LINK:
            if attempt.topup_id is None:
                if tx.now - attempt.created_at >= LINK_OPENING:
                    await _close(tx, attempt.id, FAILED, reason="the payment link was not opened")
                return
            topup = await get_topup(tx, attempt.topup_id)
            if topup.status in CREDITED:
                await _close(tx, attempt.id, SUCCEEDED)
            elif topup.status in (TOPUP_FAILED, TOPUP_EXPIRED):
                await _close(tx, attempt.id, FAILED, reason=f"the payment link was not paid ({topup.status})")
            return
    await _charge(ctx, attempt)


async def _charge(ctx: Context, attempt: Attempt) -> None:
    assert attempt.payment_method_id is not None
    try:
        result = await charge_saved(
            ctx, customer=attempt.customer_id, payment_method_id=attempt.payment_method_id,
            idempotency_key=attempt.id, amount=attempt.amount, currency=attempt.currency,
        )
    except GatewayUnavailable as error:
        # The outcome is unknown: the next pass asks again under the same key.
        log.warning("auto top-up %s: %s", attempt.id, error.message)
        return
    except DomainError as error:
        async with ctx.transaction() as tx:
            await _close(tx, attempt.id, FAILED, topup_id=(error.details or {}).get("topup"),
                         reason=f"{error.code}: {error.message}")
        return
    topup = result.topup
    async with ctx.transaction() as tx:
        if result.outcome == PAID:
            await _close(tx, attempt.id, SUCCEEDED, topup_id=topup.id)
        elif result.outcome in (DECLINED, EXPIRED_UNPAID):
            await _close(tx, attempt.id, FAILED, topup_id=topup.id, reason=topup.failure_reason or result.outcome)
        elif result.outcome == REQUIRES_ACTION:
            # Off-session, nobody is there to authenticate: the top-up expires unpaid.
            await _close(tx, attempt.id, FAILED, topup_id=topup.id, reason="the bank asks the customer to authenticate")
        else:
            await repository.update_attempt(tx, attempt.id, topup_id=topup.id)


async def _send_link(ctx: Context, attempt: Attempt) -> None:
    """Open a top-up at the link gateway and email its checkout link; the attempt succeeds when it is paid."""
    async with ctx.transaction() as tx:
        settings = await repository.load(tx, attempt.wallet_id)
    if settings is None or settings.link_gateway is None:
        async with ctx.transaction() as tx:
            await _close(tx, attempt.id, FAILED, reason="auto top-up was turned off")
        return
    try:
        topup = await create_topup(
            ctx, customer=attempt.customer_id, gateway_name=settings.link_gateway, amount=attempt.amount,
            currency=attempt.currency,
        )
    except DomainError as error:
        async with ctx.transaction() as tx:
            await _close(tx, attempt.id, FAILED, topup_id=(error.details or {}).get("topup"),
                         reason=f"{error.code}: {error.message}")
        return
    async with ctx.transaction() as tx:
        await repository.update_attempt(tx, attempt.id, topup_id=topup.id)
        if topup.checkout_url:
            await queue_for_customer(
                tx, attempt.customer_id, messages.auto_topup_link(topup.total, topup.currency, topup.checkout_url)
            )


async def _close(
    tx: Tx, attempt_id: str, status: str, *, topup_id: str | None = None, reason: str | None = None
) -> None:
    """Settle a pending attempt once (under its row lock), count the outcome on the settings, raise the event."""
    attempt = await repository.load_attempt(tx, attempt_id, for_update=True)
    if attempt is None or attempt.status != PENDING:
        return
    values: dict[str, Any] = {"status": status, "failure_reason": reason, "finished_at": tx.now}
    if topup_id is not None:
        values["topup_id"] = topup_id
    await repository.update_attempt(tx, attempt_id, **values)
    settings = await repository.load(tx, attempt.wallet_id, for_update=True)
    data: dict[str, Any] = {
        "attempt": attempt.id, "customer": attempt.customer_id, "wallet": attempt.wallet_id, "kind": attempt.kind,
        "amount": amount_text(attempt.amount, attempt.currency), "currency": attempt.currency,
        "payment_method": attempt.payment_method_id, "topup": topup_id or attempt.topup_id,
    }
    if status == SUCCEEDED:
        if settings is not None:
            await repository.record_outcome(tx, attempt.wallet_id, failures=0, retry_at=None)
        await emit(tx, "auto_topup.succeeded", data)
        return
    retry_at = None
    if settings is not None:
        failures = settings.failures + 1
        retry_at = tx.now + backoff(failures)
        await repository.record_outcome(tx, attempt.wallet_id, failures=failures, retry_at=retry_at)
    retry_text = timestamp_text(retry_at) if retry_at else None
    await emit(tx, "auto_topup.failed", {**data, "reason": reason, "retry_at": retry_text})
