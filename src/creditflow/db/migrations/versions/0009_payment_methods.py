"""Saved payment methods (Stripe cards kept for off-session charges), and what a top-up asked of them: to save
its method, the saved method it charged, and the idempotency key of that charge.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

ID = sa.String(40)
_METHOD_FK = "fk_topups_payment_method_id_payment_methods"


def upgrade() -> None:
    op.create_table(
        "payment_methods",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "customer_id", ID, sa.ForeignKey("customers.id", name="fk_payment_methods_customer_id_customers"),
            nullable=False,
        ),
        sa.Column("gateway", sa.String(20), nullable=False),
        sa.Column("gateway_customer", sa.String(255), nullable=False),
        sa.Column("gateway_method", sa.String(255), nullable=False),
        sa.Column("brand", sa.String(40)),
        sa.Column("last4", sa.String(4)),
        sa.Column("exp_month", sa.Integer()),
        sa.Column("exp_year", sa.Integer()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("detached_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_payment_methods"),
        sa.UniqueConstraint("gateway", "gateway_method", name="uq_payment_methods_gateway_gateway_method"),
        sa.CheckConstraint("status IN ('active', 'detached')", name="status_known"),
        sa.CheckConstraint("status = 'active' OR NOT is_default", name="default_is_active"),
    )
    op.create_index("ix_payment_methods_customer_id_id", "payment_methods", ["customer_id", "id"])
    op.create_index(
        "uq_payment_methods_one_default", "payment_methods", ["customer_id"], unique=True,
        sqlite_where=sa.text("is_default"), postgresql_where=sa.text("is_default"),
    )
    op.add_column("topups", sa.Column("save_payment_method", sa.Boolean(), nullable=False, server_default=sa.false()))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a new column's foreign key only inline: it has no ALTER TABLE ... ADD CONSTRAINT, and
        # batch mode would rebuild topups, which other tables' rows reference.
        op.execute(
            f"ALTER TABLE topups ADD COLUMN payment_method_id VARCHAR({ID.length}) "
            f"CONSTRAINT {_METHOD_FK} REFERENCES payment_methods (id)"
        )
    else:
        op.add_column("topups", sa.Column("payment_method_id", ID))
        op.create_foreign_key(_METHOD_FK, "topups", "payment_methods", ["payment_method_id"], ["id"])
    op.add_column("topups", sa.Column("charge_key", sa.String(255)))
    op.create_index("ix_topups_customer_id_charge_key", "topups", ["customer_id", "charge_key"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_topups_customer_id_charge_key", table_name="topups")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(_METHOD_FK, "topups", type_="foreignkey")
    # On SQLite the inline foreign key goes with its column.
    with op.batch_alter_table("topups") as batch:
        batch.drop_column("charge_key")
        batch.drop_column("payment_method_id")
        batch.drop_column("save_payment_method")
    op.drop_index("uq_payment_methods_one_default", table_name="payment_methods")
    op.drop_index("ix_payment_methods_customer_id_id", table_name="payment_methods")
    op.drop_table("payment_methods")
