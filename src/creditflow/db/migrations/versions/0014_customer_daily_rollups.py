"""Per (day, unit, customer) rollups, the summary's figures per finished bucket, and an index to find a day's transfers.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

FIGURES = (
    "topups_started", "topups_paid", "topups_failed", "topups_gross", "topups_tax", "refunds_gross", "refunds_tax",
    "granted_paid", "granted_promotional", "consumed", "expired", "credits_refunded", "balance_change",
    "held_change", "new_customer",
)


def upgrade() -> None:
    op.create_table(
        "customer_daily_rollups",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("customer_id", sa.String(40), nullable=False),
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in FIGURES),
        sa.PrimaryKeyConstraint("day", "unit", "customer_id", name="pk_customer_daily_rollups"),
    )
    op.create_index("ix_customer_daily_rollups_unit_day", "customer_daily_rollups", ["unit", "day"])
    op.create_table(
        "report_buckets",
        sa.Column("group_by", sa.String(5), nullable=False),
        sa.Column("bucket", sa.String(10), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in FIGURES),
        sa.Column("active_customers", sa.BigInteger(), nullable=False),
        sa.Column("paying_customers", sa.BigInteger(), nullable=False),
        sa.Column("checkout_customers", sa.BigInteger(), nullable=False),
        sa.Column("top_customers", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("group_by", "bucket", "unit", name="pk_report_buckets"),
    )
    # A day's transfers, for the close job and the live part of the summary (BRIN: see tables/ledger.py).
    op.create_index("ix_transfers_created_at", "transfers", ["created_at"], postgresql_using="brin")


def downgrade() -> None:
    op.drop_index("ix_transfers_created_at", table_name="transfers")
    op.drop_table("report_buckets")
    op.drop_table("customer_daily_rollups")
