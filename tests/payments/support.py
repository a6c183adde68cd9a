"""Plain factories for the gateway tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from creditflow import money
from creditflow.ids import new_id
from creditflow.payments.gateways import CheckoutRequest, RefundRequest


def checkout_request(amount: str = "12.50", currency: str = "USD", **overrides: Any) -> CheckoutRequest:
    fields: dict[str, Any] = {
        "topup_id": new_id("top"),
        "amount": money.parse(amount),
        "currency": currency,
        "description": "Credits top-up",
        "expires_at": datetime.now(UTC) + timedelta(hours=1),
        "return_url": "https://shop.example/topups/done",
        "customer_name": "Ayu Lestari",
        "customer_email": "ayu@example.com",
    }
    fields.update(overrides)
    return CheckoutRequest(**fields)


def refund_request(reference: str, amount: str, currency: str, **overrides: Any) -> RefundRequest:
    fields: dict[str, Any] = {
        "gateway_reference": reference,
        "payment_id": None,
        "amount": money.parse(amount),
        "currency": currency,
        "idempotency_key": new_id("rfd"),
        "reason": "customer asked",
    }
    fields.update(overrides)
    return RefundRequest(**fields)
