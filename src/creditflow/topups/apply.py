"""The one path that moves a top-up: a PaymentStatus, whether from a webhook, a status read (reconciliation,
Razorpay verify), an off-session charge or an expiry, is applied here, to a top-up row locked by the caller's
transaction. A paid status that carries a card the customer asked to save records it (payment_methods/saving.py).

Statuses only move forward: pending -> paid | failed | expired, and failed | expired -> paid (a late payment
is credited, never dropped); a paid top-up moves on only through refunds and disputes. Crediting writes a
topup_credits row whose primary key is the top-up, so two reports of one payment credit it once, and a
payment whose amount or currency differs from the order is flagged for review instead of credited.
"""

from __future__ import annotations

from creditflow import money
from creditflow.coupons import service as coupons
from creditflow.db.tx import Tx
from creditflow.invoices.models import Issuer
from creditflow.ledger.debt import record_debt
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.grants import get_grant, room_for
from creditflow.ledger.holds import get_hold, void_hold
from creditflow.mail import messages
from creditflow.mail.outbox import queue_for_customer
from creditflow.payment_methods.saving import remember_saved_method
from creditflow.payments.gateways.base import PaymentKind, PaymentStatus
from creditflow.subscriptions.renewals import renew_unpaid
from creditflow.topups import repository
from creditflow.topups.crediting import credit_topup, take_back_unspent
from creditflow.topups.events import emit_topup
from creditflow.topups.models import (
    CREDITED,
    DISPUTED,
    EXPIRED,
    FAILED,
    PAID,
    PARTIALLY_REFUNDED,
    PENDING,
    REFUNDABLE,
    REFUNDED,
    UNPAID,
    Topup,
)
from creditflow.topups.outside_refunds import take_back_for_outside_refund
from creditflow.topups.refund_holds import give_back

# What applying a status did; stored on the webhook inbox row and returned to the caller.
CREDITED_NOW = "credited"
ALREADY = "duplicate"
FLAGGED = "flagged"
MOVED = "moved"
UNCHANGED = "unchanged"
IGNORED = "ignored"


async def apply_status(tx: Tx, topup: Topup, status: PaymentStatus, *, issuer: Issuer, source: str) -> str:
    """Apply what the gateway reports to `topup` (locked by the caller); returns what it did."""
    if status.gateway_reference and topup.gateway_reference and status.gateway_reference != topup.gateway_reference:
        return await flag(
            tx, topup,
            f"{status.raw_status} reported for {status.gateway_reference}, not this top-up's {topup.gateway_reference}",
        )
    match status.kind:
        case PaymentKind.PAID:
            return await _paid(tx, topup, status, issuer, source)
        case PaymentKind.FAILED:
            return await _move_unpaid(tx, topup, FAILED, failure_reason=f"{topup.gateway}: {status.raw_status}")
        case PaymentKind.EXPIRED:
            return await _move_unpaid(tx, topup, EXPIRED)
        case PaymentKind.REFUNDED | PaymentKind.PARTIALLY_REFUNDED:
            return await _refund_reported(tx, topup, status)
        case PaymentKind.DISPUTED:
            return await _disputed(tx, topup, status)
        case PaymentKind.REFUND_FAILED:
            return await _refund_failed(tx, topup, status)
        case PaymentKind.PENDING:
            return UNCHANGED
    return IGNORED


async def flag(tx: Tx, topup: Topup, reason: str) -> str:
    """Keep the top-up as it is and ask a person to look: the gateway said something we must not act on."""
    await repository.update_topup(tx, topup.id, review_reason=reason)
    return FLAGGED


def _mismatch(topup: Topup, status: PaymentStatus) -> str | None:
    if status.currency != topup.currency:
        return f"paid in {status.currency}, but the top-up is in {topup.currency}"
    if status.amount != topup.total:
        paid = "an unknown amount" if status.amount is None else money.format(status.amount, topup.currency)
        return f"paid {paid} {topup.currency}, but the top-up's total is {money.format(topup.total, topup.currency)}"
    return None


async def _paid(tx: Tx, topup: Topup, status: PaymentStatus, issuer: Issuer, source: str) -> str:
    if topup.status in CREDITED:
        # The report that brings the saved card need not be the one that credited the payment.
        await _keep_saved_method(tx, topup, status)
        return ALREADY
    problem = _mismatch(topup, status)
    if problem is not None:
        return await flag(tx, topup, f"not credited: {problem}")
    if not await room_for(tx, topup.customer_id, topup.credit_unit, topup.credits + topup.bonus_credits):
        # Answered 200 and kept for a person: failing would only make the gateway retry it forever.
        return await flag(tx, topup, "not credited: the credits would pass the wallet's largest balance")
    credit = await credit_topup(tx, topup, issuer, reference=status.payment_id or topup.gateway_reference)
    await repository.insert_credit(tx, topup.id, credit, source)
    await _keep_saved_method(tx, topup, status)
    # Money came in: what the customer's subscriptions could not pay for is paid now.
    await renew_unpaid(tx, topup.customer_id, issuer)
    await queue_for_customer(tx, topup.customer_id, messages.topup_receipt(
        topup.total, topup.currency, topup.credits, topup.bonus_credits, topup.credit_unit, credit.invoice_id,
    ))
    await repository.move_status(
        tx, topup.id, allowed=UNPAID, status=PAID, paid_at=tx.now, payment_id=status.payment_id,
        payment_method=status.payment_method, failure_reason=None,
    )
    await emit_topup(tx, "topup.paid", topup.id)
    return CREDITED_NOW


async def _keep_saved_method(tx: Tx, topup: Topup, status: PaymentStatus) -> None:
    """Record the card a paid checkout saved, only if the customer asked for it (their consent to later charges)."""
    if status.saved_method is None or not topup.save_payment_method:
        return
    method = await remember_saved_method(
        tx, customer_id=topup.customer_id, gateway=topup.gateway, saved=status.saved_method
    )
    if topup.payment_method_id is None:
        await repository.update_topup(tx, topup.id, payment_method_id=method.id)


async def _move_unpaid(tx: Tx, topup: Topup, status: str, **values: str) -> str:
    # Only a pending order fails or expires: a paid one stays paid, and a failed one need not also expire.
    moved = await repository.move_status(tx, topup.id, allowed=(PENDING,), status=status, **values)
    if not moved:
        return UNCHANGED
    # The gateway says the checkout can no longer be paid: its coupon is free again (a late payment redeems it).
    await coupons.release(tx, topup.id)
    await emit_topup(tx, f"topup.{status}", topup.id)
    return MOVED


async def _refund_reported(tx: Tx, topup: Topup, status: PaymentStatus) -> str:
    """Refunds are made through creditflow (refunds.py), which moves the status and takes the credits back. A
    gateway report of more than that was refunded elsewhere (a dashboard): its credits are taken back too, and
    the top-up is flagged so a person knows."""
    if topup.status not in CREDITED:
        return await flag(tx, topup, f"{status.raw_status}: refunded at {topup.gateway} before it was credited here")
    accounted = await repository.refunds_in_progress_or_done(tx, topup.id)
    if status.amount_refunded <= accounted:
        return UNCHANGED
    outside = status.amount_refunded - accounted
    if topup.status not in REFUNDABLE:
        return await flag(tx, topup, f"{status.raw_status}: refunded at {topup.gateway} while {topup.status}")
    done = await take_back_for_outside_refund(tx, topup, outside)
    refunded = money.format(outside, topup.currency)
    await flag(tx, topup, f"{refunded} {topup.currency} refunded at {topup.gateway}, not through creditflow: {done}")
    return MOVED


async def _refund_failed(tx: Tx, topup: Topup, status: PaymentStatus) -> str:
    """The gateway accepted a refund and then failed it: the money is still ours, so the credits taken back
    return to the top-up's lots and its refunded amount goes down again. This is the one move backwards
    (refunded -> partially_refunded | paid), because the refund the status claimed never happened."""
    refunds = await repository.refunds_of(tx, topup.id)
    refund = next((r for r in refunds if status.refund_id in (r.id, r.gateway_refund_id)), None)
    if refund is None:
        return await flag(tx, topup, f"{status.raw_status}: refund {status.refund_id} was not made through creditflow")
    if refund.status == "refused":
        return ALREADY
    assert topup.credit is not None
    wallet = (await get_grant(tx, topup.credit.paid_grant_id)).wallet_id
    await lock_and_sweep(tx, wallet)
    message = f"{topup.gateway} failed the refund after accepting it"
    if refund.status == "pending":
        # Its call's answer is not applied yet: release the credits now; that answer then finds it settled.
        if refund.hold_id is not None and (await get_hold(tx, refund.hold_id)).status == "active":
            await void_hold(tx, refund.hold_id)
        await repository.update_refund(tx, refund.id, status="refused", message=message)
        return MOVED
    given, left_out = await give_back(tx, refund.id, wallet_id=wallet)
    refunded = topup.amount_refunded - refund.amount
    await repository.move_status(
        tx, topup.id, allowed=(PARTIALLY_REFUNDED, REFUNDED), status=PARTIALLY_REFUNDED if refunded else PAID,
        amount_refunded=refunded,
    )
    unit = topup.credit_unit
    message += f"; {money.format(given, unit)} {unit} given back"
    await repository.update_refund(tx, refund.id, status="refused", message=message)
    if left_out:
        await flag(tx, topup, f"{message}; {money.format(left_out, unit)} {unit} not, their grant has ended")
    return MOVED


async def _disputed(tx: Tx, topup: Topup, status: PaymentStatus) -> str:
    """The payment was taken back: void what is left of its credits; what was already spent becomes debt on the
    wallet, collected from the wallet's other unheld credits now and from the next grants for the rest."""
    if topup.status == DISPUTED:
        return ALREADY
    if topup.credit is None:
        return await flag(tx, topup, f"{status.raw_status}: disputed before it was credited here")
    refunded = sum(r.credits for r in await repository.refunds_of(tx, topup.id) if r.status in ("refunded", "manual"))
    spent, wallet_id = await take_back_unspent(tx, topup.credit, refunded)
    unit = topup.credit_unit
    note = "unspent credits voided"
    if spent:
        debt = await record_debt(
            tx, wallet_id, spent, reference_id=topup.id, description=f"Disputed: {topup.description}",
            metadata={"topup_id": topup.id},
        )
        note += (f"; {money.format(spent, unit)} {unit} already spent became debt, "
                 f"{money.format(debt.collected, unit)} {unit} collected from the wallet at once")
    await repository.move_status(
        tx, topup.id, allowed=CREDITED, status=DISPUTED, disputed_debt=spent,
        review_reason=f"disputed ({status.raw_status}): {note}",
    )
    await emit_topup(tx, "topup.disputed", topup.id)
    return MOVED
