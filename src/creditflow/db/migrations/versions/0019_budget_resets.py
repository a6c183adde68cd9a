"""Manual budget resets: budgets.reset_at, and budget_resets, the audit trail of each reset.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    # A nullable column: SQLite adds it in place, no table rebuild.
    op.add_column("budgets", sa.Column("reset_at", UTCDateTime()))
    op.create_table(
        "budget_resets",
        sa.Column("id", ID, nullable=False),
        sa.Column("budget_id", ID, _fk("budget_id", "budgets", "budget_resets"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "budget_resets"), nullable=False),
        sa.Column("previous_period_start", UTCDateTime(), nullable=False),
        sa.Column("spent", sa.BigInteger(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_budget_resets"),
    )
    op.create_index("ix_budget_resets_budget_id_id", "budget_resets", ["budget_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_budget_resets_budget_id_id", table_name="budget_resets")
    op.drop_table("budget_resets")
    with op.batch_alter_table("budgets") as batch:
        batch.drop_column("reset_at")
