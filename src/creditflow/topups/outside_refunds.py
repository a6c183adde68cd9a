"""Refunds made outside creditflow (in the gateway's dashboard): the gateway reports more money refunded than
creditflow refunded. The money is gone either way, so its credits leave the wallet just as a refund made here
would take them: the same share of the top-up's paid and bonus credits, as far as they are unspent; the paid
credits already spent become debt (ledger/debt.py). A refund row records it, and the top-up is flagged so a
person knows it happened. Called by apply.py inside its transaction, the top-up locked.
"""

from __future__ import annotations

from creditflow import money
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger.debt import record_debt
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.grants import get_grant
from creditflow.topups import repository
from creditflow.topups.events import emit_topup, refund_data
from creditflow.topups.models import PARTIALLY_REFUNDED, REFUNDABLE, REFUNDED, Topup
from creditflow.topups.refund_holds import ceil_share, hold_on_lots, take_back, unheld

# Only as long as it takes to take them back, in the same transaction.
_HOLD_SECONDS = 60


async def take_back_for_outside_refund(tx: Tx, topup: Topup, amount: int) -> str:
    """Take back the credits of `amount` refunded at the gateway; returns what was done, for the review note."""
    assert topup.credit is not None
    paid = await get_grant(tx, topup.credit.paid_grant_id)
    await lock_and_sweep(tx, paid.wallet_id)
    paid = await get_grant(tx, paid.id)
    owed_credits = min(ceil_share(amount, topup.credits, topup.total), topup.credits)
    lots = [(paid, min(unheld(paid), owed_credits))]
    if topup.credit.bonus_grant_id is not None:
        bonus = await get_grant(tx, topup.credit.bonus_grant_id)
        lots.append((bonus, min(unheld(bonus), ceil_share(amount, topup.bonus_credits, topup.total))))
    refund_id = new_id("rfd")
    hold_id = None
    if any(share > 0 for _, share in lots):
        hold_id = await hold_on_lots(
            tx, lots, expires_in=_HOLD_SECONDS, description=f"Refunded at {topup.gateway}: {topup.description}",
            metadata={"topup_id": topup.id, "refund_id": refund_id},
        )
        categories = {grant.id: grant.category for grant, _ in lots}
        await take_back(tx, hold_id, categories, reference_id=refund_id)
    unit = topup.credit_unit
    note = f"{money.format(lots[0][1], unit)} {unit} taken back"
    spent = owed_credits - lots[0][1]
    if spent > 0:
        await record_debt(
            tx, paid.wallet_id, spent, reference_id=refund_id, metadata={"topup_id": topup.id},
            description=f"Refunded at {topup.gateway}, already spent",
        )
        note += f", {money.format(spent, unit)} {unit} already spent became debt"
    await repository.insert_refund(
        tx, id=refund_id, topup_id=topup.id, amount=amount, credits=lots[0][1],
        bonus_credits=lots[1][1] if len(lots) > 1 else 0, hold_id=hold_id, status="refunded",
        message=f"refunded at {topup.gateway}, not through creditflow",
    )
    refunded = topup.amount_refunded + amount
    await repository.move_status(
        tx, topup.id, allowed=REFUNDABLE, status=REFUNDED if refunded >= topup.total else PARTIALLY_REFUNDED,
        amount_refunded=refunded,
    )
    refund = await repository.load_refund(tx, refund_id)
    assert refund is not None
    await emit_topup(tx, "topup.refunded", topup.id, refund=refund_data(refund, topup))
    return note
