"""Balance bounds: no account or wallet holds more than 4 x 10^12 units, nor a credit limit above it, and on
SQLite nothing but an integer is ever stored in them.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

The services refuse an amount or balance past the bounds (money.py) with 422 amount_too_large; this is the
backstop, like no_overdraft. SQLite turns an integer addition that overflows 64 bits into a REAL, which a
bound alone would still catch but which must never be stored at all, so SQLite also checks the type. SQLite
cannot add a CHECK to a table without rebuilding it, and accounts and wallets are referenced by every ledger
table (a rebuild fails under foreign_keys=ON), so there the rule is a trigger raising the same constraint
error with the same name.
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

MAX_BALANCE = 4 * 10**18
_COLUMNS = {"accounts": ("posted", "held", "credit_limit"), "wallets": ("posted", "held", "credit_limit")}


def _bounds(columns: tuple[str, ...], row: str = "") -> str:
    return " AND ".join(f"{row}{column} <= {MAX_BALANCE}" for column in columns)


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table, columns in _COLUMNS.items():
        name = f"ck_{table}_within_bounds"
        if postgres:
            op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} CHECK ({_bounds(columns)})")
            continue
        integers = " AND ".join(f"typeof(NEW.{column}) = 'integer'" for column in columns)
        for action in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_within_bounds_{action.lower()} BEFORE {action} ON {table} "
                f"WHEN NOT ({integers} AND {_bounds(columns, 'NEW.')}) "
                f"BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {name}'); END"
            )


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in _COLUMNS:
        if postgres:
            op.execute(f"ALTER TABLE {table} DROP CONSTRAINT ck_{table}_within_bounds")
            continue
        for action in ("insert", "update"):
            op.execute(f"DROP TRIGGER {table}_within_bounds_{action}")
