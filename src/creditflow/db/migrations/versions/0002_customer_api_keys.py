"""Customer API keys, with an optional rate limit each.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "customer_api_keys",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column(
            "customer_id", sa.String(40),
            sa.ForeignKey("customers.id", name="fk_customer_api_keys_customer_id_customers"), nullable=False,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("rate_limit_requests", sa.Integer()),
        sa.Column("rate_limit_per", sa.String(10)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_customer_api_keys"),
        sa.UniqueConstraint("key_hash", name="uq_customer_api_keys_key_hash"),
        sa.CheckConstraint(
            "(rate_limit_requests IS NULL AND rate_limit_per IS NULL) OR "
            "(rate_limit_requests > 0 AND rate_limit_per IN ('second', 'minute'))",
            name="ck_customer_api_keys_rate_limit_complete",
        ),
    )
    op.create_index("ix_customer_api_keys_customer_id_id", "customer_api_keys", ["customer_id", "id"])


def downgrade() -> None:
    op.drop_table("customer_api_keys")
