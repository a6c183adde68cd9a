"""Webhooks out: operators' endpoints and the event types each one wants, the outbox of events, one
delivery per (event, endpoint) with its retry state and lease, and every attempt made.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

ID = sa.String(40)
DELIVERY_STATUSES = ("pending", "delivered", "failed", "canceled")


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "webhook_endpoints",
        sa.Column("id", ID, nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("secret", sa.String(100), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("deleted_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_endpoints"),
    )
    op.create_table(
        "webhook_endpoint_events",
        sa.Column(
            "endpoint_id", ID, _fk("endpoint_id", "webhook_endpoints", "webhook_endpoint_events"), nullable=False
        ),
        sa.Column("event_type", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("endpoint_id", "event_type", name="pk_webhook_endpoint_events"),
    )
    op.create_index("ix_webhook_endpoint_events_event_type", "webhook_endpoint_events", ["event_type"])
    op.create_table(
        "webhook_events",
        sa.Column("id", ID, nullable=False),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_events"),
    )
    op.create_index("ix_webhook_events_type_id", "webhook_events", ["type", "id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", ID, nullable=False),
        sa.Column("event_id", ID, _fk("event_id", "webhook_events", "webhook_deliveries"), nullable=False),
        sa.Column(
            "endpoint_id", ID, _fk("endpoint_id", "webhook_endpoints", "webhook_deliveries"), nullable=False
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retry_step", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("lease_token", sa.String(40)),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("delivered_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_deliveries"),
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_webhook_deliveries_event_id_endpoint_id"),
        sa.CheckConstraint(
            f"status IN ({', '.join(repr(s) for s in DELIVERY_STATUSES)})", name="status_known"
        ),
        sa.CheckConstraint("attempts >= 0 AND retry_step >= 0", name="counts_not_negative"),
    )
    op.create_index("ix_webhook_deliveries_status_next_attempt_at", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_index("ix_webhook_deliveries_endpoint_id_status", "webhook_deliveries", ["endpoint_id", "status"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", ID, nullable=False),
        sa.Column(
            "delivery_id", ID, _fk("delivery_id", "webhook_deliveries", "webhook_attempts"), nullable=False
        ),
        sa.Column("attempted_at", UTCDateTime(), nullable=False),
        sa.Column("status_code", sa.Integer()),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_webhook_attempts"),
    )
    op.create_index("ix_webhook_attempts_delivery_id", "webhook_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_attempts_delivery_id", table_name="webhook_attempts")
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_endpoint_id_status", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_status_next_attempt_at", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_events_type_id", table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_index("ix_webhook_endpoint_events_event_type", table_name="webhook_endpoint_events")
    op.drop_table("webhook_endpoint_events")
    op.drop_table("webhook_endpoints")
