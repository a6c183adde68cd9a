"""Debit and refund request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.http.schemas import ApiKeyRef, Metadata, StrictModel
from creditflow.ledger.models import DebitResult, Draw, RefundResult
from creditflow.money import PositiveAmount, Unit
from creditflow.wallets.schemas import Balance


class DebitCreate(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    amount: PositiveAmount
    currency: Unit | None = Field(default=None, description="Wallet unit; default: the customer's currency.")
    description: str | None = Field(default=None, max_length=1000)
    metadata: Metadata = Field(default_factory=dict)
    api_key: ApiKeyRef = None


class RefundCreate(StrictModel):
    amount: PositiveAmount | None = Field(default=None, description="Default: all that is not yet refunded.")


class DrawnOut(BaseModel):
    grant: str | None = Field(description="The credit lot drawn, or null for the wallet's overdraft.")
    source: Literal["grant", "overdraft"]
    amount: str

    @classmethod
    def of(cls, draw: Draw, unit: str) -> DrawnOut:
        return cls(
            grant=draw.grant_id, source="grant" if draw.grant_id else "overdraft",
            amount=money.format(draw.amount, unit),
        )


class DebitOut(BaseModel):
    object: Literal["debit"] = "debit"
    id: str
    customer: str
    currency: str
    amount: str
    refunded: str
    drawn: list[DrawnOut]
    wallet: Balance
    description: str | None
    metadata: dict[str, str]
    api_key: str | None
    created_at: datetime

    @classmethod
    def of(cls, debit: DebitResult) -> DebitOut:
        unit = debit.unit
        return cls(
            id=debit.id, customer=debit.customer_id, currency=unit, amount=money.format(debit.amount, unit),
            refunded=money.format(debit.refunded, unit), drawn=[DrawnOut.of(d, unit) for d in debit.drawn],
            wallet=Balance.of(debit.wallet), description=debit.description, metadata=debit.metadata,
            api_key=debit.api_key_id, created_at=debit.created_at,
        )


class ReturnedOut(DrawnOut):
    breakage: str = Field(description="Part that went straight to breakage: the lot has expired or was voided.")


class RefundOut(BaseModel):
    object: Literal["refund"] = "refund"
    id: str
    debit: str
    currency: str
    amount: str
    breakage: str
    returned: list[ReturnedOut]
    wallet: Balance
    created_at: datetime

    @classmethod
    def of(cls, refund: RefundResult) -> RefundOut:
        unit = refund.unit
        returned = [
            ReturnedOut(
                grant=line.grant_id, source="grant" if line.grant_id else "overdraft",
                amount=money.format(line.amount, unit), breakage=money.format(line.breakage, unit),
            )
            for line in refund.lines
        ]
        return cls(
            id=refund.id, debit=refund.debit_id, currency=unit, amount=money.format(refund.amount, unit),
            breakage=money.format(refund.breakage, unit), returned=returned, wallet=Balance.of(refund.wallet),
            created_at=refund.created_at,
        )


def debit_document(debit: DebitResult) -> dict[str, Any]:
    """DebitOut as a plain dict (the hot path renders it with json.dumps; same document as DebitOut.of)."""
    unit = debit.unit
    wallet = debit.wallet
    return {
        "object": "debit",
        "id": debit.id,
        "customer": debit.customer_id,
        "currency": unit,
        "amount": money.format(debit.amount, unit),
        "refunded": money.format(debit.refunded, unit),
        "drawn": [
            {"grant": d.grant_id, "source": "grant" if d.grant_id else "overdraft",
             "amount": money.format(d.amount, unit)}
            for d in debit.drawn
        ],
        "wallet": {
            "posted": money.format(wallet.posted, wallet.unit),
            "held": money.format(wallet.held, wallet.unit),
            "available": money.format(wallet.available, wallet.unit),
        },
        "description": debit.description,
        "metadata": debit.metadata,
        "api_key": debit.api_key_id,
        "created_at": debit.created_at.isoformat().replace("+00:00", "Z"),
    }
