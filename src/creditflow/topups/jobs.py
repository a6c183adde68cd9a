"""Periodic top-up jobs, run by the job runner: reconcile pending top-ups with their gateway, expire the
unpaid ones (at the gateway first where it can, then here), and finish refunds left pending.

Every gateway call is made outside a transaction; what it answers is applied through apply.py under the
top-up's row lock, so several runners, webhooks and these jobs can act on one top-up and it still moves
only forward and is credited once. A gateway that cannot be reached is simply asked again on a later pass.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from creditflow.payments.gateways.base import ExpireOutcome, ExpireResult, PaymentKind, PaymentStatus
from creditflow.payments.gateways.errors import GatewayError, GatewayNotConfigured
from creditflow.topups import repository
from creditflow.topups.apply import apply_status
from creditflow.topups.context import Context
from creditflow.topups.refunds import carry_out, pending_reason

log = logging.getLogger("creditflow.topups.jobs")

JOB_ACTOR = "system:topups"
BATCH = 100


async def reconcile_pending(ctx: Context) -> int:
    """Apply the gateway's status to top-ups pending (and unchecked) for longer than the configured minutes;
    a webhook that never arrived is caught up this way. Returns how many were checked."""
    cutoff = ctx.clock.now() - timedelta(minutes=ctx.settings.topup_reconcile_after_minutes)
    async with ctx.transaction() as tx:
        due = await repository.due_for_reconciliation(tx, checked_before=cutoff, limit=BATCH)
    for topup_id in due:
        async with ctx.transaction() as tx:
            topup = await repository.load_topup(tx, topup_id)
            assert topup is not None
        status = None
        if topup.gateway_reference is not None:
            try:
                status = await ctx.gateways.get(topup.gateway).fetch_status(topup.gateway_reference)
            except (GatewayError, GatewayNotConfigured) as error:
                log.warning("top-up %s not reconciled: %s", topup_id, error.message)
        async with ctx.transaction() as tx:
            locked = await repository.load_topup(tx, topup_id, for_update=True)
            assert locked is not None
            if status is not None:
                await apply_status(tx, locked, status, issuer=ctx.issuer, source=f"reconcile:{topup.gateway}")
            # Checked either way: the next look comes a full interval later, not on every pass.
            await repository.update_topup(tx, topup_id, checked_at=tx.now)
    return len(due)


async def expire_unpaid(ctx: Context) -> int:
    """Expire pending top-ups past expires_at: at the gateway first (Midtrans, Stripe; a payment that
    completed meanwhile is applied instead), then here. Returns how many were handled."""
    async with ctx.transaction() as tx:
        due = await repository.due_for_expiry(tx, limit=BATCH)
    handled = 0
    for topup_id in due:
        async with ctx.transaction() as tx:
            topup = await repository.load_topup(tx, topup_id)
            assert topup is not None
        result = ExpireResult(outcome=ExpireOutcome.UNSUPPORTED, message="no checkout was opened")
        if topup.gateway_reference is not None:
            try:
                result = await ctx.gateways.get(topup.gateway).expire(topup.gateway_reference)
            except (GatewayError, GatewayNotConfigured) as error:
                log.warning("top-up %s not expired yet: %s", topup_id, error.message)
                continue
        if result.outcome is ExpireOutcome.NOT_EXPIRABLE and result.status is not None:
            status = result.status  # it was paid (or failed) meanwhile: apply that instead
        else:
            status = PaymentStatus(kind=PaymentKind.EXPIRED, raw_status=f"expired ({result.outcome.value})")
        async with ctx.transaction() as tx:
            locked = await repository.load_topup(tx, topup_id, for_update=True)
            assert locked is not None
            await apply_status(tx, locked, status, issuer=ctx.issuer, source=f"expire:{topup.gateway}")
        handled += 1
    return handled


async def retry_pending_refunds(ctx: Context) -> int:
    """Finish refunds still pending after the reconcile interval: their credits stay held until the gateway has
    answered, so a request cut off (or a gateway that was down) never leaves them held for good. The gateway
    refunds at most once (the refund id is its idempotency key). Returns how many were tried."""
    cutoff = ctx.clock.now() - timedelta(minutes=ctx.settings.topup_reconcile_after_minutes)
    async with ctx.transaction() as tx:
        due = await repository.stale_pending_refunds(tx, untouched_since=cutoff, limit=BATCH)
    for refund_id in due:
        async with ctx.transaction() as tx:
            refund = await repository.load_refund(tx, refund_id)
            assert refund is not None
            topup = await repository.load_topup(tx, refund.topup_id)
            assert topup is not None
            reason = await pending_reason(tx, refund)
            # Touched either way: the next try comes a full interval later, not on every pass.
            await repository.update_refund(tx, refund_id)
        try:
            await carry_out(ctx, refund, topup, reason)
        except (GatewayError, GatewayNotConfigured) as error:
            log.warning("refund %s still pending: %s", refund_id, error.message)
    return len(due)
