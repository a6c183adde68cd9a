"""Core ledger: customers, wallets, accounts, credit lots, operations, transfers, holds, keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

from creditflow.db.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "operator_keys",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("scopes", sa.String(200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_operator_keys"),
        sa.UniqueConstraint("key_hash", name="uq_operator_keys_key_hash"),
    )
    op.create_table(
        "customers",
        sa.Column("id", ID, nullable=False),
        sa.Column("external_id", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255)),
        sa.Column("email", sa.String(320)),
        sa.Column("currency", sa.String(16), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_customers"),
        sa.UniqueConstraint("external_id", name="uq_customers_external_id"),
    )
    op.create_table(
        "accounts",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id", name="fk_accounts_customer_id_customers")),
        sa.Column("wallet_id", ID),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("posted", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.CheckConstraint("held >= 0", name="ck_accounts_held_not_negative"),
        sa.CheckConstraint("credit_limit >= 0", name="ck_accounts_limit_not_negative"),
        sa.CheckConstraint("posted - held >= -credit_limit", name="ck_accounts_no_overdraft"),
    )
    op.create_index("ix_accounts_wallet_id", "accounts", ["wallet_id"])
    op.create_table(
        "wallets",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id", name="fk_wallets_customer_id_customers"),
                  nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("credit_limit", sa.BigInteger(), nullable=False),
        sa.Column("posted", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.BigInteger(), nullable=False),
        sa.Column("overdraft_account_id", ID,
                  sa.ForeignKey("accounts.id", name="fk_wallets_overdraft_account_id_accounts"), nullable=False),
        sa.Column("next_expiry_at", UTCDateTime()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_wallets"),
        sa.UniqueConstraint("customer_id", "unit", name="uq_wallets_customer_id_unit"),
        sa.CheckConstraint("held >= 0", name="ck_wallets_held_not_negative"),
        sa.CheckConstraint("posted - held >= -credit_limit", name="ck_wallets_no_overdraft"),
    )
    op.create_index("ix_wallets_next_expiry_at", "wallets", ["next_expiry_at"])
    op.create_table(
        "credit_grants",
        sa.Column("id", ID, sa.ForeignKey("accounts.id", name="fk_credit_grants_id_accounts"), nullable=False),
        sa.Column("customer_id", ID,
                  sa.ForeignKey("customers.id", name="fk_credit_grants_customer_id_customers"), nullable=False),
        sa.Column("wallet_id", ID,
                  sa.ForeignKey("wallets.id", name="fk_credit_grants_wallet_id_wallets"), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("category", sa.String(20), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("expires_at", UTCDateTime()),
        sa.Column("cost_amount", sa.BigInteger()),
        sa.Column("cost_unit", sa.String(16)),
        sa.Column("source", sa.String(20), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("operation_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_credit_grants"),
        sa.CheckConstraint("amount > 0", name="ck_credit_grants_amount_positive"),
    )
    op.create_index("ix_credit_grants_wallet_id_status", "credit_grants", ["wallet_id", "status"])
    op.create_index("ix_credit_grants_customer_id", "credit_grants", ["customer_id"])
    op.create_table(
        "operations",
        sa.Column("id", ID, nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id", name="fk_operations_customer_id_customers")),
        sa.Column("wallet_id", ID, sa.ForeignKey("wallets.id", name="fk_operations_wallet_id_wallets")),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reversed_amount", sa.BigInteger(), nullable=False),
        sa.Column("reference_id", ID),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_operations"),
        sa.CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount",
                           name="ck_operations_reversal_within_amount"),
    )
    op.create_index("ix_operations_customer_id_id", "operations", ["customer_id", "id"])
    op.create_index(
        "ix_operations_reference_id", "operations", ["reference_id"],
        postgresql_where=sa.text("reference_id IS NOT NULL"), sqlite_where=sa.text("reference_id IS NOT NULL"),
    )
    op.create_table(
        "transfers",
        sa.Column("id", ID, nullable=False),
        sa.Column("operation_id", ID,
                  sa.ForeignKey("operations.id", name="fk_transfers_operation_id_operations"), nullable=False),
        sa.Column("debit_account_id", ID,
                  sa.ForeignKey("accounts.id", name="fk_transfers_debit_account_id_accounts"), nullable=False),
        sa.Column("credit_account_id", ID,
                  sa.ForeignKey("accounts.id", name="fk_transfers_credit_account_id_accounts"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_transfers"),
        sa.CheckConstraint("amount > 0", name="ck_transfers_amount_positive"),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name="ck_transfers_distinct_accounts"),
    )
    op.create_index("ix_transfers_operation_id", "transfers", ["operation_id"])
    op.create_table(
        "holds",
        sa.Column("id", ID, nullable=False),
        sa.Column("customer_id", ID, sa.ForeignKey("customers.id", name="fk_holds_customer_id_customers"),
                  nullable=False),
        sa.Column("wallet_id", ID, sa.ForeignKey("wallets.id", name="fk_holds_wallet_id_wallets"), nullable=False),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("captured", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_holds"),
        sa.CheckConstraint("amount > 0", name="ck_holds_amount_positive"),
    )
    op.create_index("ix_holds_wallet_id_status_expires_at", "holds", ["wallet_id", "status", "expires_at"])
    op.create_index("ix_holds_customer_id_id", "holds", ["customer_id", "id"])
    op.create_table(
        "hold_allocations",
        sa.Column("hold_id", ID, sa.ForeignKey("holds.id", name="fk_hold_allocations_hold_id_holds"),
                  nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("account_id", ID,
                  sa.ForeignKey("accounts.id", name="fk_hold_allocations_account_id_accounts"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("remaining", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("hold_id", "seq", name="pk_hold_allocations"),
        sa.CheckConstraint("remaining >= 0 AND remaining <= amount",
                           name="ck_hold_allocations_remaining_within_amount"),
    )
    op.create_index("ix_hold_allocations_account_id", "hold_allocations", ["account_id"])
    op.create_table(
        "idempotency_keys",
        sa.Column("scope", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("lease_expires_at", UTCDateTime(), nullable=False),
        sa.Column("response_status", sa.Integer()),
        sa.Column("response_body", sa.Text()),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("scope", "key", name="pk_idempotency_keys"),
    )
    op.create_index("ix_idempotency_keys_expires_at", "idempotency_keys", ["expires_at"])
    _forbid_transfer_changes()


def _forbid_transfer_changes() -> None:
    """Transfers are append-only: the database itself refuses UPDATE and DELETE."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            """
            CREATE FUNCTION creditflow_transfers_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'transfers are append-only: % is not allowed', TG_OP;
            END;
            $$ LANGUAGE plpgsql
            """
        )
        op.execute(
            "CREATE TRIGGER transfers_append_only BEFORE UPDATE OR DELETE ON transfers "
            "FOR EACH ROW EXECUTE FUNCTION creditflow_transfers_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER transfers_no_{action.lower()} BEFORE {action} ON transfers "
                f"BEGIN SELECT RAISE(ABORT, 'transfers are append-only: {action} is not allowed'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS transfers_append_only ON transfers")
        op.execute("DROP FUNCTION IF EXISTS creditflow_transfers_append_only()")
    for table in ("idempotency_keys", "hold_allocations", "holds", "transfers", "operations",
                  "credit_grants", "wallets", "accounts", "customers", "operator_keys"):
        op.drop_table(table)
