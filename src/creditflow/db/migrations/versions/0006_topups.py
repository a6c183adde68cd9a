"""Top-ups: credit packages, top-up orders, the credit each paid order gave, refunds, and the webhook inbox.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ID = sa.String(40)
TOPUP_STATUSES = (
    "pending", "paid", "failed", "expired", "partially_refunded", "refunded", "refund_manual", "disputed",
)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "topup_packages",
        sa.Column("id", ID, nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("credit_unit", sa.String(16), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_topup_packages"),
        sa.CheckConstraint("price > 0 AND credits > 0", name="amounts_positive"),
        sa.CheckConstraint("bonus_credits IS NULL OR bonus_credits >= 0", name="bonus_not_negative"),
    )
    op.create_table(
        "topups",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "topups"), nullable=False),
        sa.Column("package_id", ID, _fk("package_id", "topup_packages", "topups")),
        sa.Column("gateway", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("tax_name", sa.String(100)),
        sa.Column("tax_rate", sa.String(20)),
        sa.Column("tax_inclusive", sa.Boolean()),
        sa.Column("credit_unit", sa.String(16), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("gateway_reference", sa.String(255)),
        sa.Column("checkout_url", sa.Text()),
        sa.Column("checkout_token", sa.Text()),
        sa.Column("publishable_key", sa.String(255)),
        sa.Column("return_url", sa.Text()),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("payment_id", sa.String(255)),
        sa.Column("payment_method", sa.String(40)),
        sa.Column("amount_refunded", sa.BigInteger(), nullable=False),
        sa.Column("disputed_debt", sa.BigInteger(), nullable=False),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("review_reason", sa.Text()),
        sa.Column("checked_at", UTCDateTime()),
        sa.Column("paid_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topups"),
        sa.UniqueConstraint("gateway", "gateway_reference", name="uq_topups_gateway_gateway_reference"),
        sa.CheckConstraint(f"status IN ({', '.join(repr(s) for s in TOPUP_STATUSES)})", name="status_known"),
        sa.CheckConstraint("subtotal + tax = total", name="totals_add_up"),
        sa.CheckConstraint(
            "subtotal > 0 AND tax >= 0 AND credits > 0 AND bonus_credits >= 0", name="amounts_valid"
        ),
        sa.CheckConstraint("amount_refunded >= 0 AND amount_refunded <= total", name="refund_within_total"),
    )
    op.create_index("ix_topups_customer_id_id", "topups", ["customer_id", "id"])
    op.create_index("ix_topups_status_expires_at", "topups", ["status", "expires_at"])
    op.create_table(
        "topup_credits",
        sa.Column("topup_id", ID, _fk("topup_id", "topups", "topup_credits"), nullable=False),
        sa.Column("paid_grant_id", ID, _fk("paid_grant_id", "credit_grants", "topup_credits"), nullable=False),
        sa.Column("bonus_grant_id", ID, _fk("bonus_grant_id", "credit_grants", "topup_credits")),
        sa.Column("invoice_id", ID, _fk("invoice_id", "invoices", "topup_credits"), nullable=False),
        sa.Column("source", sa.String(300), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("topup_id", name="pk_topup_credits"),
    )
    op.create_table(
        "topup_refunds",
        sa.Column("id", ID, nullable=False),
        sa.Column("topup_id", ID, _fk("topup_id", "topups", "topup_refunds"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("credits", sa.BigInteger(), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger(), nullable=False),
        sa.Column("hold_id", ID, _fk("hold_id", "holds", "topup_refunds")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("gateway_refund_id", sa.String(255)),
        sa.Column("message", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_topup_refunds"),
        sa.CheckConstraint("amount > 0 AND credits >= 0 AND bonus_credits >= 0", name="amounts_valid"),
        sa.CheckConstraint("status IN ('pending', 'refunded', 'refused', 'manual')", name="status_known"),
    )
    op.create_index("ix_topup_refunds_topup_id", "topup_refunds", ["topup_id"])
    op.create_table(
        "webhook_inbox",
        sa.Column("gateway", sa.String(20), nullable=False),
        sa.Column("event_key", sa.String(255), nullable=False),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.Column("topup_id", ID, _fk("topup_id", "topups", "webhook_inbox")),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("received_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("gateway", "event_key", name="pk_webhook_inbox"),
    )


def downgrade() -> None:
    op.drop_table("webhook_inbox")
    op.drop_index("ix_topup_refunds_topup_id", table_name="topup_refunds")
    op.drop_table("topup_refunds")
    op.drop_table("topup_credits")
    op.drop_index("ix_topups_status_expires_at", table_name="topups")
    op.drop_index("ix_topups_customer_id_id", table_name="topups")
    op.drop_table("topups")
    op.drop_table("topup_packages")
