"""Usage metering: metrics, prices, events and per-period usage aggregates.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "metrics",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("aggregation", sa.String(20), nullable=False),
        sa.Column("field", sa.String(100)),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_metrics"),
        sa.UniqueConstraint("code", name="uq_metrics_code"),
    )
    op.create_table(
        "prices",
        sa.Column("id", ID, nullable=False),
        sa.Column("metric_id", ID, _fk("metric_id", "metrics", "prices"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "prices")),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("model", sa.String(20), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("free_units_per_period", sa.BigInteger(), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("filters", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_prices"),
    )
    op.create_index("ix_prices_metric_id_status", "prices", ["metric_id", "status"])
    op.create_table(
        "usage_aggregates",
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "usage_aggregates"), nullable=False),
        sa.Column("price_id", ID, _fk("price_id", "prices", "usage_aggregates"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("units", sa.BigInteger(), nullable=False),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "price_id", "period_start", name="pk_usage_aggregates"),
    )
    op.create_table(
        "events",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "events"), nullable=False),
        sa.Column("transaction_id", sa.String(255), nullable=False),
        sa.Column("metric_id", ID, _fk("metric_id", "metrics", "events"), nullable=False),
        sa.Column("timestamp", UTCDateTime(), nullable=False),
        sa.Column("properties", sa.JSON(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("price_id", ID, _fk("price_id", "prices", "events")),
        sa.Column("period_start", UTCDateTime()),
        sa.Column("cost", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(16)),
        sa.Column("operation_id", ID),
        sa.Column("api_key_id", ID),
        sa.Column("refunded", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
        sa.UniqueConstraint("customer_id", "transaction_id", name="uq_events_customer_id_transaction_id"),
    )
    op.create_index("ix_events_customer_id_id", "events", ["customer_id", "id"])
    op.create_index("ix_events_metric_id_timestamp", "events", ["metric_id", "timestamp"])


def downgrade() -> None:
    for table in ("events", "usage_aggregates", "prices", "metrics"):
        op.drop_table(table)
