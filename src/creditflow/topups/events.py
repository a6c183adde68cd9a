"""The webhook events top-ups raise, written to the outbox in the transaction that moved the top-up."""

from __future__ import annotations

from typing import Any

from creditflow.db.tx import Tx
from creditflow.topups import repository
from creditflow.topups.models import Refund, Topup
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text


async def emit_topup(tx: Tx, event_type: str, topup_id: str, **extra: Any) -> None:
    topup = await repository.load_topup(tx, topup_id)
    assert topup is not None
    unit = topup.credit_unit
    await emit(tx, event_type, {
        "topup": {
            "id": topup.id, "customer": topup.customer_id, "status": topup.status, "gateway": topup.gateway,
            "currency": topup.currency, "total": amount_text(topup.total, topup.currency),
            "amount_refunded": amount_text(topup.amount_refunded, topup.currency),
            "credits": amount_text(topup.credits, unit), "bonus_credits": amount_text(topup.bonus_credits, unit),
            "currency_of_credits": unit, "disputed_debt": amount_text(topup.disputed_debt, unit),
            "paid_at": timestamp_text(topup.paid_at) if topup.paid_at else None,
        },
        **extra,
    })


def refund_data(refund: Refund, topup: Topup) -> dict[str, Any]:
    return {"id": refund.id, "amount": amount_text(refund.amount, topup.currency), "status": refund.status,
            "credits": amount_text(refund.credits, topup.credit_unit)}
