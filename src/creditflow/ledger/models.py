"""Ledger domain objects returned by services (no HTTP, no SQL)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

LOT = "lot"
OVERDRAFT = "overdraft"
DEBT = "debt"
SYSTEM_KINDS = ("topups", "promotions", "revenue", "breakage", "refunds", "adjustments")
PAID = "paid"
PROMOTIONAL = "promotional"


def system_account_id(kind: str, unit: str) -> str:
    """System accounts have fixed ids, so the hot path never looks them up."""
    return f"sys_{kind}_{unit}"


def is_system_account(account_id: str) -> bool:
    return account_id.startswith("sys_")


def debt_account_id(wallet_id: str) -> str:
    """A wallet's debt account has a fixed id, like its overdraft account, so it is found without a query."""
    return "dbt_" + wallet_id.removeprefix("wal_")


def counts_in_wallet(account_id: str) -> bool:
    """Whether an account's balance is part of its wallet's cached posted/held: lots and the overdraft are;
    system accounts have no cached balance, and debt is owed outside the wallet (ledger/debt.py)."""
    return not account_id.startswith(("sys_", "dbt_"))


@dataclass(slots=True)
class WalletState:
    id: str
    customer_id: str
    unit: str
    credit_limit: int
    posted: int
    held: int
    overdraft_account_id: str
    next_expiry_at: datetime | None
    budgeted: bool = False

    @property
    def available(self) -> int:
        return self.posted - self.held + self.credit_limit


@dataclass(slots=True)
class Lot:
    """A spendable account in draw order: a credit lot, or the wallet's overdraft (grant_id None)."""

    account_id: str
    posted: int
    held: int
    credit_limit: int = 0
    expires_at: datetime | None = None
    status: str = "active"

    @property
    def available(self) -> int:
        return self.posted - self.held + self.credit_limit


@dataclass(slots=True)
class Draw:
    account_id: str
    amount: int

    @property
    def grant_id(self) -> str | None:
        return self.account_id if self.account_id.startswith("grt_") else None


@dataclass(slots=True)
class Grant:
    id: str
    customer_id: str
    wallet_id: str
    unit: str
    amount: int
    remaining: int
    held: int
    category: str
    priority: int
    expires_at: datetime | None
    cost_amount: int | None
    cost_unit: str | None
    source: str
    status: str
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    ended_at: datetime | None


@dataclass(slots=True)
class DebitResult:
    id: str
    customer_id: str
    unit: str
    amount: int
    refunded: int
    drawn: list[Draw]
    wallet: WalletState
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    api_key_id: str | None = None


@dataclass(slots=True)
class RefundLine:
    account_id: str
    amount: int
    breakage: int

    @property
    def grant_id(self) -> str | None:
        return self.account_id if self.account_id.startswith("grt_") else None


@dataclass(slots=True)
class RefundResult:
    id: str
    debit_id: str
    unit: str
    amount: int
    breakage: int
    lines: list[RefundLine]
    wallet: WalletState
    created_at: datetime


@dataclass(slots=True)
class Hold:
    id: str
    customer_id: str
    wallet_id: str
    unit: str
    amount: int
    captured: int
    reserved: int
    status: str
    expires_at: datetime
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    ended_at: datetime | None
    allocations: list[Draw] = field(default_factory=list)
    api_key_id: str | None = None


@dataclass(slots=True)
class HeldAllocation:
    """What one allocation of a hold still reserves, as a capture, void or expiry releases it."""

    seq: int
    account_id: str
    remaining: int
    ended: bool
    """The lot is voided, expired or past its expiry: what is released from it goes to breakage."""


@dataclass(slots=True)
class CaptureResult:
    id: str
    hold: Hold
    amount: int
    breakage: int
    wallet: WalletState
    created_at: datetime


@dataclass(slots=True)
class TransferView:
    debit_account_id: str
    credit_account_id: str
    amount: int
    kind: str


@dataclass(slots=True)
class OperationView:
    id: str
    kind: str
    customer_id: str | None
    unit: str
    amount: int
    reference_id: str | None
    actor: str
    description: str | None
    metadata: dict[str, Any]
    created_at: datetime
    transfers: list[TransferView]
