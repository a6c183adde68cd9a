"""Invoices: invoices, their lines and tax lines, and the per-year counters that number them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _invoice_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("invoices.id", name=f"fk_{table}_invoice_id_invoices")


def upgrade() -> None:
    op.create_table(
        "invoices",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "customer_id", ID, sa.ForeignKey("customers.id", name="fk_invoices_customer_id_customers"), nullable=False
        ),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("number", sa.String(64)),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("subtotal", sa.BigInteger(), nullable=False),
        sa.Column("tax", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("seller_name", sa.String(255)),
        sa.Column("seller_address", sa.Text()),
        sa.Column("seller_tax_id", sa.String(64)),
        sa.Column("seller_email", sa.String(320)),
        sa.Column("seller_timezone", sa.String(64)),
        sa.Column("buyer_name", sa.String(255)),
        sa.Column("buyer_email", sa.String(320)),
        sa.Column("buyer_external_id", sa.String(255)),
        sa.Column("buyer_metadata", sa.JSON()),
        sa.Column("paid_via", sa.String(40)),
        sa.Column("payment_reference", sa.String(255)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("finalized_at", UTCDateTime()),
        sa.Column("paid_at", UTCDateTime()),
        sa.Column("voided_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_invoices"),
        sa.UniqueConstraint("number", name="uq_invoices_number"),
        sa.CheckConstraint("status IN ('draft', 'finalized', 'paid', 'void')", name="ck_invoices_status_known"),
        sa.CheckConstraint("subtotal + tax = total", name="ck_invoices_totals_add_up"),
        sa.CheckConstraint("subtotal >= 0 AND tax >= 0", name="ck_invoices_amounts_not_negative"),
        sa.CheckConstraint(
            "(number IS NULL) = (finalized_at IS NULL)", name="ck_invoices_numbered_when_finalized"
        ),
    )
    op.create_index("ix_invoices_customer_id_id", "invoices", ["customer_id", "id"])
    op.create_table(
        "invoice_lines",
        sa.Column("invoice_id", ID, _invoice_fk("invoice_lines"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "seq", name="pk_invoice_lines"),
    )
    op.create_table(
        "invoice_tax_lines",
        sa.Column("invoice_id", ID, _invoice_fk("invoice_tax_lines"), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("rate_percent", sa.String(20), nullable=False),
        sa.Column("inclusive", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("invoice_id", "seq", name="pk_invoice_tax_lines"),
        sa.CheckConstraint("amount >= 0", name="ck_invoice_tax_lines_amount_not_negative"),
    )
    op.create_table(
        "invoice_counters",
        sa.Column("prefix", sa.String(32), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last_number", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name="pk_invoice_counters"),
        sa.CheckConstraint("last_number >= 0", name="ck_invoice_counters_last_number_not_negative"),
    )


def downgrade() -> None:
    op.drop_table("invoice_counters")
    op.drop_table("invoice_tax_lines")
    op.drop_table("invoice_lines")
    op.drop_index("ix_invoices_customer_id_id", table_name="invoices")
    op.drop_table("invoices")
