"""The Lago-compatible API's wallets, wallet transactions and subscription external ids; webhook endpoints'
format (standard or lago).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-02

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.add_column(
        "webhook_endpoints", sa.Column("format", sa.String(20), nullable=False, server_default="standard")
    )
    op.create_table(
        "lago_wallets",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "lago_wallets"), nullable=False),
        sa.Column("wallet_id", ID, _fk("wallet_id", "wallets", "lago_wallets"), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("code", sa.String(100)),
        sa.Column("rate_amount", sa.BigInteger(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("expiration_at", UTCDateTime()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("terminated_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_lago_wallets"),
        sa.UniqueConstraint("wallet_id", name="uq_lago_wallets_wallet_id"),
        sa.CheckConstraint("rate_amount > 0", name="rate_positive"),
    )
    op.create_table(
        "lago_wallet_transactions",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "lago_wallet_id", ID, _fk("lago_wallet_id", "lago_wallets", "lago_wallet_transactions"), nullable=False
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("transaction_status", sa.String(20), nullable=False),
        sa.Column("transaction_type", sa.String(10), nullable=False),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("credit_amount", sa.BigInteger(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("invoice_id", ID, _fk("invoice_id", "invoices", "lago_wallet_transactions")),
        sa.Column("grant_id", ID, _fk("grant_id", "credit_grants", "lago_wallet_transactions")),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("settled_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_lago_wallet_transactions"),
        sa.UniqueConstraint("invoice_id", name="uq_lago_wallet_transactions_invoice_id"),
        sa.CheckConstraint("credit_amount > 0", name="credits_positive"),
    )
    op.create_index(
        "ix_lago_wallet_transactions_lago_wallet_id", "lago_wallet_transactions", ["lago_wallet_id"]
    )
    op.create_table(
        "lago_subscriptions",
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("subscription_id", ID, _fk("subscription_id", "subscriptions", "lago_subscriptions"),
                  nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "lago_subscriptions"), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("external_id", name="pk_lago_subscriptions"),
        sa.UniqueConstraint("subscription_id", name="uq_lago_subscriptions_subscription_id"),
    )
    op.create_index("ix_lago_subscriptions_customer_id", "lago_subscriptions", ["customer_id"])


def downgrade() -> None:
    op.drop_table("lago_subscriptions")
    op.drop_table("lago_wallet_transactions")
    op.drop_table("lago_wallets")
    op.drop_column("webhook_endpoints", "format")
