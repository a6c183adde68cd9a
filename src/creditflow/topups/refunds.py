"""Refunds of top-ups: only the unspent part of the top-up's paid grant can be given back.

Three steps, the gateway call outside any transaction:
1. one transaction holds the credits the refund takes back (on the top-up's own grants: the paid credits
   in proportion to the money, and the same share of its bonus, as far as it is unspent) and records the
   refund as pending;
2. the gateway refund, with the refund id as its idempotency key;
3. one transaction takes the held credits back (refunded, or `manual` where the gateway cannot refund
   through its API: Midtrans bank transfers) or releases them (refused).
If the gateway cannot be reached (or the process dies) the refund stays pending with its credits held: asking
again (for the same amount) retries the same refund, and so does the retry job (jobs.py) once it has waited
long enough; the gateway carries it out at most once, since the refund id is its idempotency key.
"""

from __future__ import annotations

from creditflow import money
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, NotFound
from creditflow.ids import new_id
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.grants import get_grant
from creditflow.ledger.holds import get_hold, void_hold
from creditflow.payments.gateways.base import RefundOutcome, RefundRequest, RefundResult
from creditflow.payments.gateways.errors import GatewayRefused
from creditflow.topups import repository
from creditflow.topups.apply import flag
from creditflow.topups.context import Context
from creditflow.topups.events import emit_topup, refund_data
from creditflow.topups.models import PARTIALLY_REFUNDED, REFUND_MANUAL, REFUNDABLE, REFUNDED, Refund, Topup
from creditflow.topups.refund_holds import ceil_share, hold_on_lots, take_back, unheld
from creditflow.topups.service import charge_step, get_topup


class TopupNotRefundable(Conflict):
    code = "topup_not_refundable"


class RefundExceedsRefundable(Conflict):
    code = "refund_exceeds_refundable"


class RefundInProgress(Conflict):
    code = "refund_in_progress"


async def refund_topup(ctx: Context, topup_id: str, *, amount: int | None, reason: str | None) -> tuple[Refund, Topup]:
    async with ctx.transaction() as tx:
        refund, topup, reason = await _start(tx, ctx, topup_id, amount, reason)
    refund, topup, result = await carry_out(ctx, refund, topup, reason)
    if result.outcome is RefundOutcome.REFUSED:
        raise GatewayRefused(
            topup.gateway, f"{topup.gateway} refused the refund: {result.message}", refund=refund.id, topup=topup.id
        )
    return refund, topup


async def carry_out(
    ctx: Context, refund: Refund, topup: Topup, reason: str | None
) -> tuple[Refund, Topup, RefundResult]:
    """Steps 2 and 3 for a pending refund: also how the retry job finishes one whose request was cut off."""
    gateway = ctx.gateways.get(topup.gateway)
    # Paid but its checkout never stored (the process died after the gateway call): Midtrans and the sandbox
    # know it by the top-up id, and Stripe and Razorpay refund by the payment id the payment brought.
    request = RefundRequest(
        gateway_reference=topup.gateway_reference or topup.id, payment_id=topup.payment_id, amount=refund.amount,
        currency=topup.currency, idempotency_key=refund.id, reason=reason,
    )
    try:
        result = await gateway.refund(request)
    except GatewayRefused as refusal:
        result = RefundResult(outcome=RefundOutcome.REFUSED, message=refusal.message)
    async with ctx.transaction() as tx:
        await _finish(tx, refund, result)
        return await _load_refund(tx, refund.id), await get_topup(tx, topup.id), result


async def _start(
    tx: Tx, ctx: Context, topup_id: str, amount: int | None, reason: str | None
) -> tuple[Refund, Topup, str | None]:
    """Hold the credits and record the refund as pending; or find the pending one to retry (with the reason it
    was first asked with: a gateway refuses an idempotency key reused with other parameters)."""
    topup = await repository.load_topup(tx, topup_id, for_update=True)
    if topup is None:
        raise NotFound(f"no top-up '{topup_id}'", param="id")
    if topup.status not in REFUNDABLE or topup.credit is None:
        raise TopupNotRefundable(f"top-up '{topup_id}' is {topup.status}; only a paid one can be refunded")
    pending = [r for r in await repository.refunds_of(tx, topup_id) if r.status == "pending"]
    if pending:
        if amount is not None and amount != pending[0].amount:
            shown = money.format(pending[0].amount, topup.currency)
            raise RefundInProgress(
                f"a refund of {shown} {topup.currency} is in progress; ask again for that amount to finish it",
                param="amount", details={"refund": pending[0].id, "amount": shown, "currency": topup.currency},
            )
        return pending[0], topup, await pending_reason(tx, pending[0])
    paid = await get_grant(tx, topup.credit.paid_grant_id)
    await lock_and_sweep(tx, paid.wallet_id)
    paid = await get_grant(tx, paid.id)
    bonus = await get_grant(tx, topup.credit.bonus_grant_id) if topup.credit.bonus_grant_id else None
    step = charge_step(ctx.gateways.get(topup.gateway), topup.currency)
    # Money for the unspent paid credits, at the price paid (tax included), down to what the gateway charges.
    refundable = min(unheld(paid) * topup.total // topup.credits // step * step, topup.total - topup.amount_refunded)
    amount = refundable if amount is None else amount
    if amount > refundable or amount <= 0:
        shown = money.format(refundable, topup.currency)
        raise RefundExceedsRefundable(
            f"at most {shown} {topup.currency} of this top-up is refundable (its unspent credits)",
            param="amount", details={"refundable": shown, "currency": topup.currency},
        )
    lots = [(paid, min(unheld(paid), ceil_share(amount, topup.credits, topup.total)))]
    if bonus is not None:
        lots.append((bonus, min(unheld(bonus), ceil_share(amount, topup.bonus_credits, topup.total))))
    refund_id = new_id("rfd")
    tags = {"topup_id": topup_id, "refund_id": refund_id} | ({"reason": reason} if reason else {})
    hold_id = await hold_on_lots(
        tx, lots, expires_in=ctx.settings.hold_max_expires_in, description=f"Refund of {topup.description}",
        metadata=tags,
    )
    await repository.insert_refund(
        tx, id=refund_id, topup_id=topup_id, amount=amount, credits=lots[0][1],
        bonus_credits=lots[1][1] if bonus is not None else 0, hold_id=hold_id, status="pending",
    )
    return await _load_refund(tx, refund_id), topup, reason


async def pending_reason(tx: Tx, refund: Refund) -> str | None:
    """The reason a pending refund was asked with, kept on the hold that reserves its credits."""
    if refund.hold_id is None:
        return None
    return (await get_hold(tx, refund.hold_id)).metadata.get("reason")


async def _finish(tx: Tx, refund: Refund, result: RefundResult) -> None:
    topup = await repository.load_topup(tx, refund.topup_id, for_update=True)
    assert topup is not None and topup.credit is not None and refund.hold_id is not None
    if (await _load_refund(tx, refund.id)).status != "pending":
        return  # a concurrent retry of the same refund finished it (the gateway refunded once)
    hold = await get_hold(tx, refund.hold_id)
    await lock_and_sweep(tx, hold.wallet_id)
    hold = await get_hold(tx, refund.hold_id)
    if result.outcome is RefundOutcome.REFUSED:
        if hold.status == "active":
            await void_hold(tx, hold.id)
        await repository.update_refund(tx, refund.id, status="refused", message=result.message)
        return
    if hold.status == "active":
        categories = {topup.credit.paid_grant_id: "paid"}
        if topup.credit.bonus_grant_id:
            categories[topup.credit.bonus_grant_id] = "promotional"
        await take_back(tx, hold.id, categories, reference_id=refund.id)
    else:
        await flag(tx, topup, f"refund {refund.id} went through after its hold {hold.status}; credits not taken back")
    manual = result.outcome is RefundOutcome.MANUAL
    await repository.update_refund(
        tx, refund.id, status="manual" if manual else "refunded", gateway_refund_id=result.refund_id,
        message=result.message,
    )
    refunded = topup.amount_refunded + refund.amount
    status = REFUND_MANUAL if manual else REFUNDED if refunded == topup.total else PARTIALLY_REFUNDED
    await repository.move_status(tx, topup.id, allowed=REFUNDABLE, status=status, amount_refunded=refunded)
    finished = await _load_refund(tx, refund.id)
    await emit_topup(tx, "topup.refunded", topup.id, refund=refund_data(finished, topup))


async def _load_refund(tx: Tx, refund_id: str) -> Refund:
    refund = await repository.load_refund(tx, refund_id)
    assert refund is not None
    return refund
