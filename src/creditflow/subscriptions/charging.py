"""Charging a subscription from the balance: one operation drawing the wallet (paid lots only, unless the plan
says otherwise), one invoice paid from the balance (no tax: it was collected when the money came in), the
plan's included credits, and a subscription_charges row that makes the charge once per period.

Called inside the caller's transaction with the subscription row locked. Raises InsufficientFunds, writing
nothing, when the balance is short.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from creditflow import money
from creditflow.coupons import service as coupons
from creditflow.db.tx import Tx
from creditflow.errors import InsufficientFunds
from creditflow.ids import new_id
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Issuer, LineInput
from creditflow.ledger import repository as ledger
from creditflow.ledger.draw import plan_draw
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.grants import grant_credits
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import PAID, PROMOTIONAL, Lot, system_account_id
from creditflow.subscriptions import repository
from creditflow.subscriptions.models import Plan, Subscription
from creditflow.wallets.lookup import resolve_wallet

SOURCE = "subscription"


@dataclass(frozen=True, slots=True)
class Charged:
    invoice_id: str
    operation_id: str | None
    grant_id: str | None


async def draw_for_plan(tx: Tx, customer_id: str, plan: Plan, amount: int, *, description: str) -> str | None:
    """Move `amount` from the customer's wallet in the plan's currency to revenue; returns the operation id."""
    if amount == 0:
        return None
    ref = await resolve_wallet(tx, customer_id, plan.currency)
    wallet = await lock_and_sweep(tx, ref.wallet_id)
    assert wallet is not None
    overdraft = await ledger.overdraft_of(tx, wallet)
    if plan.paid_credits_only:
        lots = await ledger.spendable_lots(tx, wallet.id, categories=(PAID,))
        overdraft = Lot(overdraft.account_id, 0, 0, 0)  # only paid credits pay: no credit line either
    else:
        lots = await ledger.spendable_lots(tx, wallet.id)
    shown = {"available": money.format(wallet.available, wallet.unit), "currency": wallet.unit}
    if amount > wallet.available:
        raise InsufficientFunds(
            f"the balance does not cover {money.format(amount, plan.currency)} {plan.currency}", param="plan",
            details=shown,
        )
    try:
        draws = plan_draw(lots, overdraft, amount)
    except InsufficientFunds:
        raise InsufficientFunds(
            f"the paid credits do not cover {money.format(amount, plan.currency)} {plan.currency} "
            "(promotional and included credits never pay for a plan)", param="plan", details=shown,
        ) from None
    operation_id = new_id("op")
    await ledger.insert_operation(
        tx, id=operation_id, kind="subscription", unit=wallet.unit, amount=amount, customer_id=wallet.customer_id,
        wallet_id=wallet.id, description=description,
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    revenue = system_account_id("revenue", wallet.unit)
    for draw in draws:
        journal.transfer(draw.account_id, revenue, draw.amount, "subscription")
    await journal.post()
    return operation_id


async def invoice_paid_from_balance(
    tx: Tx, subscription: Subscription, currency: str, lines: list[LineInput], issuer: Issuer,
    operation_id: str | None,
) -> str:
    invoice = await invoices.create_draft(
        tx, customer=subscription.customer_id, currency=currency, lines=lines,
        description=lines[0].description, metadata={"subscription_id": subscription.id},
    )
    await invoices.finalize(tx, invoice.id, issuer)
    await invoices.mark_paid(tx, invoice.id, via="balance", reference=operation_id)
    return invoice.id


async def charge_period(
    tx: Tx,
    subscription: Subscription,
    plan: Plan,
    *,
    period_start: datetime,
    period_end: datetime,
    issuer: Issuer,
) -> Charged | None:
    """Charge `plan` for one whole period and grant its included credits; None if that period was charged."""
    if await repository.charge_exists(tx, subscription.id, period_start, "period", plan.id):
        return None
    description = f"{plan.name}: {period_start:%Y-%m-%d} to {period_end:%Y-%m-%d}"
    discount, code = await coupons.discount_for_period(tx, subscription.id, plan.amount, plan.currency)
    charged = plan.amount - discount
    operation_id = await draw_for_plan(tx, subscription.customer_id, plan, charged, description=description)
    lines = [LineInput(description=description, amount=plan.amount)]
    if discount:
        await coupons.count_period(tx, subscription.id)
        lines.append(LineInput(description=f"Coupon {code}", amount=-discount))
    invoice_id = await invoice_paid_from_balance(tx, subscription, plan.currency, lines, issuer, operation_id)
    grant_id = None
    if plan.included_credits:
        grant = await grant_credits(
            tx, customer=subscription.customer_id, amount=plan.included_credits, unit=plan.included_unit,
            category=PROMOTIONAL, expires_at=None if plan.rollover else period_end, source=SOURCE,
            description=f"Included with {plan.name}", metadata={"subscription_id": subscription.id},
        )
        grant_id = grant.id
    await repository.insert_charge(
        tx, id=new_id("sch"), subscription_id=subscription.id, plan_id=plan.id, period_start=period_start,
        kind="period", amount=charged, operation_id=operation_id, invoice_id=invoice_id, grant_id=grant_id,
    )
    return Charged(invoice_id=invoice_id, operation_id=operation_id, grant_id=grant_id)
