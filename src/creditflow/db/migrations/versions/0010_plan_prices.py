"""Usage prices of a plan: they apply to its subscribers, after a customer's own and before the default.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23

CHECK constraints are named without their "ck_<table>_" prefix: the naming convention adds it (see 0004).
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PLAN_FK = "fk_prices_plan_id_plans"
_ONE_OWNER = "customer_id IS NULL OR plan_id IS NULL"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a new column's constraints only inline: batch mode would rebuild prices, which events and
        # usage aggregates reference (dropping the old table fails under foreign_keys=ON once they exist).
        op.execute(
            f"ALTER TABLE prices ADD COLUMN plan_id VARCHAR(40) CONSTRAINT {_PLAN_FK} REFERENCES plans (id) "
            f"CONSTRAINT ck_prices_one_owner CHECK ({_ONE_OWNER})"
        )
    else:
        op.add_column("prices", sa.Column("plan_id", sa.String(40)))
        op.create_foreign_key(_PLAN_FK, "prices", "plans", ["plan_id"], ["id"])
        op.create_check_constraint("one_owner", "prices", _ONE_OWNER)


def downgrade() -> None:
    # op.f: the names as they stand (the naming convention would prefix them again).
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_prices_one_owner"), "prices", type_="check")
        op.drop_constraint(op.f(_PLAN_FK), "prices", type_="foreignkey")
        op.drop_column("prices", "plan_id")
        return
    # SQLite rebuilds the table without the column; the reflected CHECK naming it goes first.
    with op.batch_alter_table("prices") as batch:
        batch.drop_constraint(op.f("ck_prices_one_owner"), type_="check")
        batch.drop_column("plan_id")
