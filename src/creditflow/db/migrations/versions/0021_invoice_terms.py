"""Invoice terms: customers.net_terms_days, invoices.due_at and invoices.payment_overdue.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Added in place (SQLite too): nullable, or with a constant default.
    op.add_column("customers", sa.Column("net_terms_days", sa.Integer()))
    op.add_column("invoices", sa.Column("due_at", UTCDateTime()))
    op.add_column(
        "invoices", sa.Column("payment_overdue", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index("ix_invoices_status_due_at", "invoices", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_invoices_status_due_at", table_name="invoices")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("payment_overdue")
        batch.drop_column("due_at")
    with op.batch_alter_table("customers") as batch:
        batch.drop_column("net_terms_days")
