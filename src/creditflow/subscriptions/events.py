"""The webhook events subscriptions raise, written to the outbox in the caller's transaction."""

from __future__ import annotations

from typing import Any

from creditflow.db.tx import Tx
from creditflow.subscriptions.models import Plan, Subscription
from creditflow.webhooks.outbox import amount_text, emit, timestamp_text


def subscription_data(subscription: Subscription, plan: Plan) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "customer": subscription.customer_id,
        "plan": plan.code,
        "status": subscription.status,
        "price": {"amount": amount_text(plan.amount, plan.currency), "currency": plan.currency},
        "current_period_start": timestamp_text(subscription.current_period_start),
        "current_period_end": timestamp_text(subscription.current_period_end),
    }


async def emit_subscription(tx: Tx, event_type: str, subscription: Subscription, plan: Plan) -> None:
    await emit(tx, event_type, {"subscription": subscription_data(subscription, plan)})
