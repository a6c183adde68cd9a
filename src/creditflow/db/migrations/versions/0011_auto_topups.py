"""Auto top-up settings per wallet, and the attempts they made.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "auto_topups",
        sa.Column("wallet_id", ID, _fk("wallet_id", "wallets", "auto_topups"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "auto_topups"), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("threshold", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger()),
        sa.Column("target_balance", sa.BigInteger()),
        sa.Column("max_per_day", sa.Integer(), nullable=False),
        sa.Column("payment_method_id", ID, _fk("payment_method_id", "payment_methods", "auto_topups")),
        sa.Column("link_gateway", sa.String(20)),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", name="pk_auto_topups"),
        sa.CheckConstraint("(amount IS NULL) <> (target_balance IS NULL)", name="one_amount"),
        sa.CheckConstraint("threshold >= 0", name="threshold_valid"),
        sa.CheckConstraint("amount IS NULL OR amount > 0", name="amount_positive"),
        sa.CheckConstraint("target_balance IS NULL OR target_balance > threshold", name="target_above_threshold"),
        sa.CheckConstraint("max_per_day BETWEEN 1 AND 100", name="max_per_day_valid"),
    )
    op.create_table(
        "auto_topup_attempts",
        sa.Column("id", ID, nullable=False),
        sa.Column("wallet_id", ID, _fk("wallet_id", "wallets", "auto_topup_attempts"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "auto_topup_attempts"), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column(
            "payment_method_id", ID, _fk("payment_method_id", "payment_methods", "auto_topup_attempts")
        ),
        sa.Column("topup_id", ID, _fk("topup_id", "topups", "auto_topup_attempts")),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_auto_topup_attempts"),
        sa.CheckConstraint("kind IN ('charge', 'link')", name="kind_known"),
        sa.CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status_known"),
    )
    op.create_index(
        "ix_auto_topup_attempts_wallet_id_created_at", "auto_topup_attempts", ["wallet_id", "created_at"]
    )
    op.create_index("ix_auto_topup_attempts_status", "auto_topup_attempts", ["status"])


def downgrade() -> None:
    op.drop_index("ix_auto_topup_attempts_status", table_name="auto_topup_attempts")
    op.drop_index("ix_auto_topup_attempts_wallet_id_created_at", table_name="auto_topup_attempts")
    op.drop_table("auto_topup_attempts")
    op.drop_table("auto_topups")
