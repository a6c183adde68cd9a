"""Transaction history bodies: each operation with its transfers."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.ledger.models import OperationView


class TransferOut(BaseModel):
    model_config = {"populate_by_name": True}

    from_account: str = Field(alias="from", description="Account debited: a grant id, an overdraft, or sys_*.")
    to_account: str = Field(alias="to", description="Account credited.")
    amount: str
    kind: str


class TransactionOut(BaseModel):
    object: Literal["transaction"] = "transaction"
    id: str
    kind: str
    customer: str | None
    currency: str
    amount: str
    reference: str | None = Field(description="The grant, hold or debit this operation acts on.")
    actor: str = Field(description="The operator key (key:...) or job (system:...) that acted.")
    description: str | None
    metadata: dict[str, str]
    created_at: datetime
    transfers: list[TransferOut]

    @classmethod
    def of(cls, op: OperationView) -> TransactionOut:
        unit = op.unit
        return cls(
            id=op.id, kind=op.kind, customer=op.customer_id, currency=unit, amount=money.format(op.amount, unit),
            reference=op.reference_id, actor=op.actor, description=op.description, metadata=op.metadata,
            created_at=op.created_at,
            transfers=[
                TransferOut(
                    from_account=t.debit_account_id, to_account=t.credit_account_id,
                    amount=money.format(t.amount, unit), kind=t.kind,
                )
                for t in op.transfers
            ],
        )
