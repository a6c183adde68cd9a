"""The customer portal: browser sessions, single-use tokens, end-user accounts, and a scope on customer keys.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

ID = sa.String(40)


def _customer_fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey("customers.id", name=f"fk_{table}_customer_id_customers")


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id", ID, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("customer_id", ID, _customer_fk("web_sessions"), nullable=False),
        sa.Column("via", sa.String(20), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_web_sessions"),
        sa.UniqueConstraint("secret_hash", name="uq_web_sessions_secret_hash"),
    )
    op.create_index("ix_web_sessions_customer_id", "web_sessions", ["customer_id"])
    op.create_table(
        "portal_tokens",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("customer_id", ID, _customer_fk("portal_tokens"), nullable=False),
        sa.Column("flow", sa.String(20)),
        sa.Column("return_url", sa.String(2000)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("token_hash", name="pk_portal_tokens"),
    )
    op.create_index("ix_portal_tokens_expires_at", "portal_tokens", ["expires_at"])
    op.create_table(
        "portal_users",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, _customer_fk("portal_users"), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("password_changed_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_portal_users"),
        sa.UniqueConstraint("customer_id", name="uq_portal_users_customer_id"),
        sa.UniqueConstraint("email", name="uq_portal_users_email"),
    )
    with op.batch_alter_table("customer_api_keys") as batch:
        batch.add_column(sa.Column("scopes", sa.String(100), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("customer_api_keys") as batch:
        batch.drop_column("scopes")
    op.drop_table("portal_users")
    op.drop_index("ix_portal_tokens_expires_at", table_name="portal_tokens")
    op.drop_table("portal_tokens")
    op.drop_index("ix_web_sessions_customer_id", table_name="web_sessions")
    op.drop_table("web_sessions")
