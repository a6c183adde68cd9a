"""Transaction history: operations, newest first, each with its transfers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from creditflow.db.pagination import newest_first
from creditflow.db.tables import operations
from creditflow.db.tx import Tx
from creditflow.ledger import repository
from creditflow.ledger.models import OperationView, TransferView


async def list_operations(
    tx: Tx, *, customer_id: str | None, limit: int, starting_after: str | None,
    since: datetime | None = None, until: datetime | None = None, kind: str | None = None,
) -> list[OperationView]:
    """Newest first; `since` inclusive, `until` exclusive."""
    query = newest_first(select(operations), operations.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(operations.c.customer_id == customer_id)
    if since is not None:
        query = query.where(operations.c.created_at >= since)
    if until is not None:
        query = query.where(operations.c.created_at < until)
    if kind is not None:
        query = query.where(operations.c.kind == kind)
    rows = (await tx.conn.execute(query)).all()
    by_operation: dict[str, list[TransferView]] = {row.id: [] for row in rows}
    for t in await repository.transfers_of(tx, list(by_operation)):
        by_operation[t.operation_id].append(TransferView(t.debit_account_id, t.credit_account_id, t.amount, t.kind))
    return [
        OperationView(
            id=row.id, kind=row.kind, customer_id=row.customer_id, unit=row.unit, amount=row.amount,
            reference_id=row.reference_id, actor=row.actor, description=row.description,
            metadata=row.metadata, created_at=row.created_at, transfers=by_operation[row.id],
        )
        for row in rows
    ]
