"""Auto top-up: per wallet, when to top up by itself and how much; and each attempt it made."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Integer, String, Table, Text

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

# One per wallet: below `threshold` (available balance, in the wallet's unit) charge `amount` of `currency`, or
# what brings the balance to `target_balance`; at most `max_per_day` attempts in any 24 hours. A declined
# charge counts a failure and waits until `retry_at` (exponential backoff).
auto_topups = Table(
    "auto_topups",
    metadata,
    Column("wallet_id", ID, ForeignKey("wallets.id"), primary_key=True),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("threshold", BigInteger, nullable=False),
    Column("amount", BigInteger),
    Column("target_balance", BigInteger),
    Column("max_per_day", Integer, nullable=False),
    Column("payment_method_id", ID, ForeignKey("payment_methods.id")),
    Column("link_gateway", String(20)),
    Column("failures", Integer, nullable=False),
    Column("retry_at", UTCDateTime()),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    CheckConstraint("(amount IS NULL) <> (target_balance IS NULL)", name="one_amount"),
    CheckConstraint("threshold >= 0", name="threshold_valid"),
    CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
    CheckConstraint("target_balance IS NULL OR target_balance > threshold", name="target_above_threshold"),
    CheckConstraint("max_per_day BETWEEN 1 AND 100", name="max_per_day_valid"),
)

# What each crossing below the threshold led to: an off-session charge of a saved method, or a payment link
# emailed to the customer. Pending until its top-up is paid (succeeded) or cannot be (failed).
auto_topup_attempts = Table(
    "auto_topup_attempts",
    metadata,
    Column("id", ID, primary_key=True),
    Column("wallet_id", ID, ForeignKey("wallets.id"), nullable=False),
    Column("customer_id", ID, ForeignKey("customers.id"), nullable=False),
    Column("kind", String(10), nullable=False),
    Column("status", String(20), nullable=False),
    Column("currency", String(16), nullable=False),
    Column("amount", BigInteger, nullable=False),
    Column("payment_method_id", ID, ForeignKey("payment_methods.id")),
    Column("topup_id", ID, ForeignKey("topups.id")),
    Column("failure_reason", Text),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
    CheckConstraint("kind IN ('charge', 'link')", name="kind_known"),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    Index(None, "wallet_id", "created_at"),
    Index(None, "status"),
)
