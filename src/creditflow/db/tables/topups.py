"""Top-ups: credit packages, top-up orders, the credit each paid order gave (once), refunds, and the inbox of
gateway webhooks (each event once)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

TOPUP_STATUSES = (
    "pending", "paid", "failed", "expired", "partially_refunded", "refunded", "refund_manual", "disputed",
)

# What customers can buy: a price in money for credits in a unit (the price's currency or e.g. CREDITS).
# bonus_credits NULL: the currency's bonus tiers apply; a number (even 0) is the package's own bonus.
topup_packages = Table(
    "topup_packages",
    metadata,
    Column("id", ID, primary_key=True),
    Column("name", String(255), nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("currency", String(16), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("credit_unit", String(16), nullable=False),
    Column("bonus_credits", BigInteger),
    Column("status", String(20), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("archived_at", UTCDateTime()),
    CheckConstraint("price > 0 AND credits > 0", name="amounts_positive"),
    CheckConstraint("bonus_credits IS NULL OR bonus_credits >= 0", name="bonus_not_negative"),
)

# One order for credits through one gateway. Its id is the gateway's order id, receipt or client reference.
# Money columns are micro-units of `currency`; credits and bonus_credits of `credit_unit`.
topups = Table(
    "topups",
    metadata,
    Column("id", ID, primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("package_id", ID, ForeignKey("topup_packages.id")),
    Column("gateway", String(20), nullable=False),
    Column("status", String(20), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("subtotal", BigInteger, nullable=False),
    Column("tax", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("tax_name", String(100)),
    Column("tax_rate", String(20)),
    Column("tax_inclusive", Boolean),
    Column("credit_unit", String(16), nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("bonus_credits", BigInteger, nullable=False),
    Column("description", Text, nullable=False),
    # Set once the gateway answered; NULL while the checkout is being opened (or if that failed).
    Column("gateway_reference", String(255)),
    Column("checkout_url", Text),
    Column("checkout_token", Text),
    Column("publishable_key", String(255)),
    Column("return_url", Text),
    Column("expires_at", UTCDateTime(), nullable=False),
    Column("payment_id", String(255)),
    Column("payment_method", String(40)),
    Column("amount_refunded", BigInteger, nullable=False),
    # Credits spent before a dispute took the payment back: owed by the customer.
    Column("disputed_debt", BigInteger, nullable=False),
    Column("failure_reason", Text),
    # Set when a gateway reported something that must not be acted on blindly (an amount that differs).
    Column("review_reason", Text),
    Column("checked_at", UTCDateTime()),
    Column("paid_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    # The customer asked the gateway to keep the payment method (Stripe only).
    Column("save_payment_method", Boolean, nullable=False, server_default=false()),
    # The saved method this top-up charged off-session, or the one its checkout saved.
    Column("payment_method_id", ID, ForeignKey("payment_methods.id")),
    # The caller's idempotency key of an off-session charge: a retry finds this top-up instead of charging again.
    Column("charge_key", String(255)),
    CheckConstraint(f"status IN ({', '.join(repr(s) for s in TOPUP_STATUSES)})", name="status_known"),
    CheckConstraint("subtotal + tax = total", name="totals_add_up"),
    CheckConstraint("subtotal > 0 AND tax >= 0 AND credits > 0 AND bonus_credits >= 0", name="amounts_valid"),
    CheckConstraint("amount_refunded >= 0 AND amount_refunded <= total", name="refund_within_total"),
    UniqueConstraint("gateway", "gateway_reference"),
    Index(None, "customer_id", "id"),
    Index(None, "status", "expires_at"),
    Index(None, "customer_id", "charge_key", unique=True),
)

# The credit a paid top-up gave. The primary key is the guarantee that a payment credits once, whichever
# of its events (or a status read) reports it first.
topup_credits = Table(
    "topup_credits",
    metadata,
    Column("topup_id", ID, ForeignKey("topups.id"), primary_key=True),
    Column("paid_grant_id", ID, ForeignKey("credit_grants.id"), nullable=False),
    Column("bonus_grant_id", ID, ForeignKey("credit_grants.id")),
    Column("invoice_id", ID, ForeignKey("invoices.id"), nullable=False),
    Column("source", String(300), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# A refund of (part of) a top-up: the credits are held first (hold_id), then the gateway is asked.
topup_refunds = Table(
    "topup_refunds",
    metadata,
    Column("id", ID, primary_key=True),
    Column("topup_id", ID, ForeignKey("topups.id"), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("credits", BigInteger, nullable=False),
    Column("bonus_credits", BigInteger, nullable=False),
    Column("hold_id", ID, ForeignKey("holds.id")),
    Column("status", String(20), nullable=False),
    Column("gateway_refund_id", String(255)),
    Column("message", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("amount > 0 AND credits >= 0 AND bonus_credits >= 0", name="amounts_valid"),
    CheckConstraint("status IN ('pending', 'refunded', 'refused', 'manual')", name="status_known"),
    Index(None, "topup_id"),
)

# Every gateway webhook event processed, once: a redelivery finds its row and changes nothing.
webhook_inbox = Table(
    "webhook_inbox",
    metadata,
    Column("gateway", String(20), primary_key=True),
    Column("event_key", String(255), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("topup_id", ID, ForeignKey("topups.id")),
    Column("outcome", String(20), nullable=False),
    Column("received_at", UTCDateTime(), nullable=False),
)
