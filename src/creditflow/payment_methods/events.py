"""The webhook events saved payment methods raise, written to the outbox in the caller's transaction."""

from __future__ import annotations

from typing import Any

from creditflow.db.tx import Tx
from creditflow.payment_methods.models import PaymentMethod
from creditflow.webhooks.outbox import emit, timestamp_text


def payment_method_data(method: PaymentMethod) -> dict[str, Any]:
    return {
        "id": method.id, "customer": method.customer_id, "gateway": method.gateway, "brand": method.brand,
        "last4": method.last4, "exp_month": method.exp_month, "exp_year": method.exp_year, "status": method.status,
        "is_default": method.is_default, "created_at": timestamp_text(method.created_at),
        "detached_at": timestamp_text(method.detached_at) if method.detached_at else None,
    }


async def emit_payment_method(tx: Tx, event_type: str, method: PaymentMethod) -> None:
    await emit(tx, event_type, {"payment_method": payment_method_data(method)})
