"""Writing a batch of debits: balance deltas, operations and transfers.

Portable path: SQLAlchemy Core executemany, four statements. PostgreSQL path: ONE statement on the
driver connection, a data-modifying CTE over unnest()ed arrays, so a batch of any size costs one
round trip and no per-row Python type processing. Both run inside the caller's transaction, and the
CHECK constraints hold either way. Row locks are taken in account-id order on both paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, update

from creditflow.budgets.guard import BudgetChanges, write_changes
from creditflow.db.tables import accounts, operations, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.observability.metrics import count_operations


@dataclass(slots=True)
class SpendBatch:
    account_deltas: dict[str, int] = field(default_factory=dict)
    wallet_deltas: dict[str, int] = field(default_factory=dict)
    operations: list[dict[str, Any]] = field(default_factory=list)
    transfers: list[dict[str, Any]] = field(default_factory=list)
    budgets: BudgetChanges = field(default_factory=BudgetChanges)


async def write_batch(tx: Tx, batch: SpendBatch) -> None:
    if not batch.operations:
        return
    count_operations(tx.conn, (operation["kind"] for operation in batch.operations))
    if tx.conn.dialect.name == "postgresql":
        await _write_postgres(tx, batch)
    else:
        await _write_portable(tx, batch)
    await write_changes(tx, batch.budgets)


_ACCOUNT_UPDATE = (
    update(accounts)
    .where(accounts.c.id == bindparam("account_id"))
    .values(posted=accounts.c.posted + bindparam("delta"))
)
_WALLET_UPDATE = (
    update(wallets)
    .where(wallets.c.id == bindparam("wallet_id"))
    .values(posted=wallets.c.posted + bindparam("delta"), updated_at=bindparam("now"))
)


async def _write_portable(tx: Tx, batch: SpendBatch) -> None:
    await tx.conn.execute(
        _ACCOUNT_UPDATE, [{"account_id": a, "delta": d} for a, d in sorted(batch.account_deltas.items()) if d]
    )
    await tx.conn.execute(
        _WALLET_UPDATE, [{"wallet_id": w, "delta": d, "now": tx.now} for w, d in sorted(batch.wallet_deltas.items())]
    )
    await tx.conn.execute(operations.insert(), batch.operations)
    await tx.conn.execute(transfers.insert(), batch.transfers)


# Columns that vary per row travel as arrays; the rest are one value for the whole batch (one moment,
# nothing reversed or referenced yet), which keeps encoding work per batch small.
_OPERATION_ARRAYS = (
    ("id", "text"), ("kind", "text"), ("customer_id", "text"), ("wallet_id", "text"), ("unit", "text"),
    ("amount", "bigint"), ("actor", "text"), ("description", "text"), ("metadata", "text"), ("api_key_id", "text"),
)
_TRANSFER_ARRAYS = (
    ("id", "text"), ("operation_id", "text"), ("debit_account_id", "text"), ("credit_account_id", "text"),
    ("amount", "bigint"), ("unit", "text"), ("kind", "text"),
)


def _unnest(columns: tuple[tuple[str, str], ...], first: int) -> str:
    return ", ".join(f"${first + i}::{kind}[]" for i, (_, kind) in enumerate(columns))


def _names(columns: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(name for name, _ in columns)


_OPS_FIRST = 6
_TRANSFERS_FIRST = _OPS_FIRST + len(_OPERATION_ARRAYS)
_OPERATION_VALUES = _names(_OPERATION_ARRAYS).replace("metadata", "metadata::json")
_POSTGRES_WRITE = f"""
WITH account_changes AS (
    UPDATE accounts SET posted = accounts.posted + d.delta
    FROM unnest($1::text[], $2::bigint[]) AS d(id, delta) WHERE accounts.id = d.id
), wallet_changes AS (
    UPDATE wallets SET posted = wallets.posted + d.delta, updated_at = $5
    FROM unnest($3::text[], $4::bigint[]) AS d(id, delta) WHERE wallets.id = d.id
), new_operations AS (
    INSERT INTO operations ({_names(_OPERATION_ARRAYS)}, reversed_amount, reference_id, created_at)
    SELECT {_OPERATION_VALUES}, 0, NULL, $5
    FROM unnest({_unnest(_OPERATION_ARRAYS, _OPS_FIRST)}) AS o({_names(_OPERATION_ARRAYS)})
)
INSERT INTO transfers ({_names(_TRANSFER_ARRAYS)}, created_at)
SELECT {_names(_TRANSFER_ARRAYS)}, $5
FROM unnest({_unnest(_TRANSFER_ARRAYS, _TRANSFERS_FIRST)}) AS t({_names(_TRANSFER_ARRAYS)})
"""


async def _write_postgres(tx: Tx, batch: SpendBatch) -> None:
    account_ids = sorted(a for a, d in batch.account_deltas.items() if d)
    wallet_ids = sorted(batch.wallet_deltas)
    arguments: list[Any] = [
        account_ids, [batch.account_deltas[a] for a in account_ids],
        wallet_ids, [batch.wallet_deltas[w] for w in wallet_ids], tx.now,
    ]
    for name, _ in _OPERATION_ARRAYS:
        column = [row[name] for row in batch.operations]
        arguments.append([json.dumps(m) for m in column] if name == "metadata" else column)
    arguments += [[row[name] for row in batch.transfers] for name, _ in _TRANSFER_ARRAYS]
    driver = (await tx.conn.get_raw_connection()).driver_connection
    if not driver.is_in_transaction():
        raise RuntimeError("batch writes must run inside the caller's transaction")
    await driver.execute(_POSTGRES_WRITE, *arguments)
