"""Plans, subscriptions paid from the balance and the charges they made (once per period); the job runner's
claims on scheduled occurrences; the daily summary; low-balance alerts and the email outbox; closed usage
periods, and what an invoice has collected.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _fk(column: str, target: str, table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", name=f"fk_{table}_{column}_{target}")


def upgrade() -> None:
    op.create_table(
        "plans",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(100), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("interval", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("included_credits", sa.BigInteger()),
        sa.Column("included_unit", sa.String(16)),
        sa.Column("rollover", sa.Boolean(), nullable=False),
        sa.Column("trial_days", sa.Integer(), nullable=False),
        sa.Column("paid_credits_only", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("archived_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_plans"),
        sa.UniqueConstraint("code", name="uq_plans_code"),
        sa.CheckConstraint("interval IN ('week', 'month', 'year')", name="interval_known"),
        sa.CheckConstraint("amount >= 0 AND trial_days >= 0", name="amounts_valid"),
        sa.CheckConstraint("included_credits IS NULL OR included_credits > 0", name="included_positive"),
        sa.CheckConstraint("status IN ('active', 'archived')", name="status_known"),
    )
    op.create_table(
        "subscriptions",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "subscriptions"), nullable=False),
        sa.Column("plan_id", ID, _fk("plan_id", "plans", "subscriptions"), nullable=False),
        sa.Column("next_plan_id", ID, _fk("next_plan_id", "plans", "subscriptions")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("anchor_at", UTCDateTime(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("current_period_start", UTCDateTime(), nullable=False),
        sa.Column("current_period_end", UTCDateTime(), nullable=False),
        sa.Column("trial_end", UTCDateTime()),
        sa.Column("cancel_at_period_end", sa.Boolean(), nullable=False),
        sa.Column("canceled_at", UTCDateTime()),
        sa.Column("past_due_since", UTCDateTime()),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscriptions"),
        sa.CheckConstraint(
            "status IN ('trialing', 'active', 'past_due', 'suspended', 'canceled')", name="status_known"
        ),
        sa.CheckConstraint("current_period_end > current_period_start", name="period_valid"),
    )
    op.create_index("ix_subscriptions_customer_id_status", "subscriptions", ["customer_id", "status"])
    op.create_index("ix_subscriptions_next_attempt_at", "subscriptions", ["next_attempt_at"])
    op.create_table(
        "subscription_charges",
        sa.Column("id", ID, nullable=False),
        sa.Column("subscription_id", ID, _fk("subscription_id", "subscriptions", "subscription_charges"),
                  nullable=False),
        sa.Column("plan_id", ID, _fk("plan_id", "plans", "subscription_charges"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("operation_id", ID),
        sa.Column("invoice_id", ID, _fk("invoice_id", "invoices", "subscription_charges"), nullable=False),
        sa.Column("grant_id", ID),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_subscription_charges"),
        sa.UniqueConstraint(
            "subscription_id", "period_start", "kind", "plan_id",
            name="uq_subscription_charges_once",
        ),
        sa.CheckConstraint("kind IN ('period', 'upgrade')", name="kind_known"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )


    op.create_table(
        "job_runs",
        sa.Column("job", sa.String(60), nullable=False),
        sa.Column("occurrence_at", UTCDateTime(), nullable=False),
        sa.Column("runner", sa.String(100), nullable=False),
        sa.Column("claimed_at", UTCDateTime(), nullable=False),
        sa.Column("lease_until", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("job", "occurrence_at", name="pk_job_runs"),
    )
    op.create_table(
        "daily_reports",
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("topups", sa.Integer(), nullable=False),
        sa.Column("topups_amount", sa.BigInteger(), nullable=False),
        sa.Column("revenue", sa.BigInteger(), nullable=False),
        sa.Column("refunds", sa.BigInteger(), nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.Column("new_customers", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", "currency", name="pk_daily_reports"),
        sa.CheckConstraint("topups >= 0 AND new_customers >= 0", name="counts_not_negative"),
    )
    op.create_table(
        "balance_alerts",
        sa.Column("wallet_id", ID, _fk("wallet_id", "wallets", "balance_alerts"), nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "balance_alerts"), nullable=False),
        sa.Column("threshold", sa.BigInteger()),
        sa.Column("threshold_percent", sa.Integer()),
        sa.Column("low_armed", sa.Boolean(), nullable=False),
        sa.Column("depleted_armed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("wallet_id", name="pk_balance_alerts"),
        sa.CheckConstraint("(threshold IS NULL) <> (threshold_percent IS NULL)", name="one_threshold"),
        sa.CheckConstraint("threshold IS NULL OR threshold > 0", name="threshold_positive"),
        sa.CheckConstraint(
            "threshold_percent IS NULL OR threshold_percent BETWEEN 1 AND 100", name="percent_valid"
        ),
    )
    op.create_table(
        "email_outbox",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "email_outbox"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("to_address", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("invoice_id", ID, _fk("invoice_id", "invoices", "email_outbox")),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UTCDateTime()),
        sa.Column("lease_until", UTCDateTime()),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_email_outbox"),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name="status_known"),
    )
    op.create_index("ix_email_outbox_status_next_attempt_at", "email_outbox", ["status", "next_attempt_at"])
    op.create_index("ix_email_outbox_customer_id", "email_outbox", ["customer_id"])
    op.create_table(
        "usage_closes",
        sa.Column("customer_id", ID, _fk("customer_id", "customers", "usage_closes"), nullable=False),
        sa.Column("period_start", UTCDateTime(), nullable=False),
        sa.Column("period_end", UTCDateTime(), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("customer_id", "period_start", name="pk_usage_closes"),
    )
    op.create_index("ix_usage_closes_customer_id_period_end", "usage_closes", ["customer_id", "period_end"])
    op.add_column("invoices", sa.Column("amount_paid", sa.BigInteger(), nullable=False, server_default=sa.text("0")))


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("amount_paid")
    op.drop_index("ix_usage_closes_customer_id_period_end", table_name="usage_closes")
    op.drop_table("usage_closes")
    op.drop_index("ix_email_outbox_customer_id", table_name="email_outbox")
    op.drop_index("ix_email_outbox_status_next_attempt_at", table_name="email_outbox")
    op.drop_table("email_outbox")
    op.drop_table("balance_alerts")
    op.drop_table("daily_reports")
    op.drop_table("job_runs")
    op.drop_table("subscription_charges")
    op.drop_index("ix_subscriptions_next_attempt_at", table_name="subscriptions")
    op.drop_index("ix_subscriptions_customer_id_status", table_name="subscriptions")
    op.drop_table("subscriptions")
    op.drop_table("plans")
