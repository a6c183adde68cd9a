"""Spend controls: budgets, budget usage per period, hold reservations of budgets, alerts; API key ids on
operations and holds; the wallet flag that tells the hot path a budget watches it. Also the index usage
reports read events by (customer, time range).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (0001 to
0003 spelled it out and so carry it twice; harmless, and renaming them is not worth a table rebuild).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    with op.batch_alter_table("wallets") as batch:
        batch.add_column(sa.Column("budgeted", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("operations") as batch:
        batch.add_column(sa.Column("api_key_id", ID))
    with op.batch_alter_table("holds") as batch:
        batch.add_column(sa.Column("api_key_id", ID))
    op.create_table(
        "budgets",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "budgets"), nullable=False),
        sa.Column("api_key_id", ID, _fk("api_key_id", "customer_api_keys", "budgets")),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("thresholds", sa.JSON(), nullable=False),
        sa.Column("action", sa.String(10), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budgets"),
        sa.CheckConstraint("amount > 0", name="amount_positive"),
    )
    op.create_index("ix_budgets_customer_id_status", "budgets", ["customer_id", "status"])
    op.create_table(
        "budget_usage",
        sa.Column("budget_id", ID, _fk("budget_id", "budgets", "budget_usage"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("budget_id", "period_start", name="pk_budget_usage"),
    )
    op.create_table(
        "hold_budgets",
        sa.Column("hold_id", ID, _fk("hold_id", "holds", "hold_budgets"), nullable=False),
        sa.Column("budget_id", ID, _fk("budget_id", "budgets", "hold_budgets"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hold_id", "budget_id", name="pk_hold_budgets"),
        sa.CheckConstraint("reserved >= 0", name="reserved_not_negative"),
    )
    op.create_table(
        "alerts",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "alerts"), nullable=False),
        sa.Column("budget_id", ID, _fk("budget_id", "budgets", "alerts"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("budget_amount", sa.BigInteger(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint(
            "budget_id", "period_start", "kind", "threshold", name="uq_alerts_budget_id_period_start_kind_threshold"
        ),
    )
    op.create_index("ix_alerts_customer_id_id", "alerts", ["customer_id", "id"])
    op.create_index("ix_events_customer_id_timestamp", "events", ["customer_id", "timestamp"])


def downgrade() -> None:
    op.drop_index("ix_events_customer_id_timestamp", table_name="events")
    op.drop_table("alerts")
    op.drop_table("hold_budgets")
    op.drop_table("budget_usage")
    op.drop_table("budgets")
    with op.batch_alter_table("holds") as batch:
        batch.drop_column("api_key_id")
    with op.batch_alter_table("operations") as batch:
        batch.drop_column("api_key_id")
    with op.batch_alter_table("wallets") as batch:
        batch.drop_column("budgeted")
