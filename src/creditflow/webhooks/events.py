"""The catalogue of event types an endpoint can subscribe to. Emitting anything else is a programming error."""

from __future__ import annotations

# type -> when it is sent. The descriptions are the README's and the API docs' list.
EVENT_TYPES: dict[str, str] = {
    "customer.created": "A customer was created (its wallet exists).",
    "wallet.low_balance": "A wallet's available balance crossed below its low-balance threshold.",
    "wallet.depleted": "A wallet's available balance reached zero.",
    "credit_grant.expired": "A credit grant expired; its unused remainder went to breakage.",
    "topup.paid": "A top-up was paid and its credits granted.",
    "topup.failed": "A top-up's payment failed.",
    "topup.expired": "A top-up was not paid in time.",
    "topup.refunded": "A top-up was refunded, in part or in full.",
    "topup.disputed": "A top-up's payment was disputed (a chargeback).",
    "invoice.created": "An invoice was issued.",
    "invoice.paid": "An invoice was paid.",
    "invoice.voided": "An invoice was voided.",
    "invoice.overdue": "A finalized invoice stayed unpaid past its due_at (payment_overdue became true).",
    "subscription.created": "A subscription started.",
    "subscription.renewed": "A subscription was charged for a new period.",
    "subscription.past_due": "A subscription's renewal could not be charged.",
    "subscription.suspended": "A subscription stayed past due beyond its grace period.",
    "subscription.canceled": "A subscription was canceled.",
    "budget.threshold_reached": "A budget's spend crossed one of its alert thresholds (percent).",
    "budget.exceeded": "A budget's spend reached 100% of its amount.",
    "hold.expired": "A hold expired before it was captured or voided; its reservation was released.",
    "auto_topup.succeeded": "An automatic top-up was paid (a saved payment method charged, or its payment link paid).",
    "auto_topup.failed": "An automatic top-up failed (declined, no way to pay, link unpaid); it backs off.",
    "payment_method.saved": "A customer's payment method was saved at the gateway by a paid top-up.",
    "payment_method.detached": "A saved payment method was detached: it can no longer be charged.",
    # Sent by the Lago-compatible API (/api/v1), with the object as Lago shows it.
    "wallet_transaction.created": "Lago API: a wallet transaction was created (granted: settled; paid: pending).",
    "wallet_transaction.updated": "Lago API: a pending wallet transaction settled or failed with its invoice.",
    "wallet.depleted_ongoing_balance": "Lago API: a wallet's ongoing balance reached zero or less.",
    "invoice.payment_status_updated": "Lago API: an invoice's payment_status was changed.",
}


def unknown_types(event_types: list[str]) -> list[str]:
    return [t for t in event_types if t not in EVENT_TYPES]
