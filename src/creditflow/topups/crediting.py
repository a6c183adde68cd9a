"""What a paid top-up gives, and what a dispute takes back. Called by apply.py inside its transaction."""

from __future__ import annotations

from decimal import Decimal

from creditflow import money
from creditflow.coupons import service as coupons
from creditflow.coupons.models import Redemption
from creditflow.db.tx import Tx
from creditflow.invoices import service as invoices
from creditflow.invoices.models import Issuer, LineInput, TaxInput
from creditflow.ledger.grants import get_grant, grant_credits, void_grant
from creditflow.ledger.models import PAID, PROMOTIONAL
from creditflow.topups.models import Credit, Topup

SOURCE = "topup"


async def credit_topup(tx: Tx, topup: Topup, issuer: Issuer, *, reference: str | None) -> Credit:
    """A paid grant with its cost basis (money net of tax), a promotional grant for the bonus, an invoice paid."""
    tags = {"topup_id": topup.id}
    redemption = await coupons.redeem(tx, topup.id)
    discount = redemption.discount if redemption else 0
    # The credits are all granted; the share of them the discount paid for is recorded as a promotion.
    waived = topup.credits * discount // topup.amount if discount else 0
    paid = await grant_credits(
        tx, customer=topup.customer_id, amount=topup.credits, unit=topup.credit_unit, category=PAID,
        cost_amount=topup.subtotal, cost_unit=topup.currency, source=SOURCE, description=topup.description,
        metadata=tags, promotional_share=waived,
    )
    if redemption is not None and redemption.bonus_credits:
        coupon = await coupons.get_coupon(tx, redemption.coupon_id)
        await grant_credits(
            tx, customer=topup.customer_id, amount=redemption.bonus_credits, unit=topup.credit_unit,
            category=PROMOTIONAL, expires_at=coupons.bonus_expiry(coupon, tx.now), source="coupon",
            description=f"Coupon {coupon.code}: {topup.description}", metadata={**tags, "coupon": coupon.code},
        )
    bonus = None
    if topup.bonus_credits:
        bonus = await grant_credits(
            tx, customer=topup.customer_id, amount=topup.bonus_credits, unit=topup.credit_unit, category=PROMOTIONAL,
            source=SOURCE, description=f"Bonus: {topup.description}", metadata=tags,
        )
    invoice = await invoices.create_draft(
        tx, customer=topup.customer_id, currency=topup.currency, lines=_lines(topup, redemption), taxes=_taxes(topup),
        description=topup.description, metadata=tags,
    )
    await invoices.finalize(tx, invoice.id, issuer)
    await invoices.mark_paid(tx, invoice.id, via=topup.gateway, reference=reference)
    return Credit(paid_grant_id=paid.id, bonus_grant_id=bonus.id if bonus else None, invoice_id=invoice.id)


def _lines(topup: Topup, redemption: Redemption | None) -> list[LineInput]:
    credits = f"{money.format(topup.credits, topup.credit_unit)} {topup.credit_unit}"
    if topup.bonus_credits:
        credits += f" + {money.format(topup.bonus_credits, topup.credit_unit)} bonus"
    # An inclusive tax is part of the line; an exclusive one is added below it.
    amount = topup.total if topup.tax_inclusive else topup.subtotal
    discount = redemption.discount if redemption else 0
    lines = [LineInput(description=f"{topup.description}: {credits}", amount=amount + discount)]
    if discount:
        # Its own line, before tax: the tax below is on what is left.
        lines.append(LineInput(description="Coupon discount", amount=-discount))
    return lines


def _taxes(topup: Topup) -> list[TaxInput]:
    if topup.tax_name is None or topup.tax_rate is None:
        return []
    # The tax the customer was quoted and charged, recorded as it is rather than computed again.
    return [TaxInput(name=topup.tax_name, rate_percent=Decimal(topup.tax_rate), inclusive=bool(topup.tax_inclusive),
                     amount=topup.tax)]


async def take_back_unspent(tx: Tx, credit: Credit, refunded_credits: int) -> tuple[int, str]:
    """Void what is left unheld of the top-up's grants; returns the paid credits already spent (now owed) and
    the wallet they were spent from."""
    paid = await get_grant(tx, credit.paid_grant_id)
    spent = paid.amount - paid.remaining - refunded_credits
    for grant_id in (credit.paid_grant_id, credit.bonus_grant_id):
        if grant_id is not None and (await get_grant(tx, grant_id)).status == "active":
            await void_grant(tx, grant_id)
    return max(spent, 0), paid.wallet_id
