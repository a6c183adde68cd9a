"""Coupons and promotion codes, and their redemptions.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "coupons",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(16)),
        sa.Column("applies_to", sa.String(20), nullable=False),
        sa.Column("max_redemptions", sa.Integer()),
        sa.Column("per_customer_limit", sa.Integer(), nullable=False),
        sa.Column("valid_from", UTCDateTime()),
        sa.Column("valid_until", UTCDateTime()),
        sa.Column("min_amount", sa.BigInteger()),
        sa.Column("customer_ids", sa.JSON()),
        sa.Column("bonus_expires_in_days", sa.Integer()),
        sa.Column("duration", sa.String(20), nullable=False),
        sa.Column("duration_periods", sa.Integer()),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("times_redeemed", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_coupons"),
        sa.UniqueConstraint("code", name="uq_coupons_code"),
        sa.CheckConstraint("value > 0", name="value_positive"),
        sa.CheckConstraint("per_customer_limit >= 1", name="per_customer_limit_positive"),
        sa.CheckConstraint("times_redeemed >= 0", name="times_redeemed_not_negative"),
    )
    op.create_table(
        "coupon_redemptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("coupon_id", ID, _fk("coupon_id", "coupons", "coupon_redemptions"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "coupon_redemptions"), nullable=False),
        sa.Column("topup_id", ID, _fk("topup_id", "topups", "coupon_redemptions")),
        sa.Column("subscription_id", ID, _fk("subscription_id", "subscriptions", "coupon_redemptions")),
        sa.Column("periods_left", sa.Integer()),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("bonus_credits", sa.BigInteger(), nullable=False),
        sa.Column("over_limit", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_coupon_redemptions"),
        sa.UniqueConstraint("topup_id", name="uq_coupon_redemptions_topup_id"),
        sa.UniqueConstraint("subscription_id", name="uq_coupon_redemptions_subscription_id"),
    )
    op.create_index(
        "ix_coupon_redemptions_coupon_id_customer_id_status", "coupon_redemptions",
        ["coupon_id", "customer_id", "status"],
    )
    op.create_index("ix_coupon_redemptions_coupon_id_id", "coupon_redemptions", ["coupon_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_coupon_redemptions_coupon_id_id", table_name="coupon_redemptions")
    op.drop_index("ix_coupon_redemptions_coupon_id_customer_id_status", table_name="coupon_redemptions")
    op.drop_table("coupon_redemptions")
    op.drop_table("coupons")
