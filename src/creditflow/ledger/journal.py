"""A Journal gathers one operation's transfers and reservations, then posts them atomically.

Transfers move `amount` from the debit account (its balance falls) to the credit account (its balance
rises), so every row is balanced by construction. Customer accounts' cached `posted`/`held` and the
wallet's cached totals change in the same transaction, in account-id order so that concurrent
transactions always lock in the same order.
"""

from __future__ import annotations

from collections import defaultdict

from creditflow.db.tables import transfers
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.models import WalletState, counts_in_wallet, is_system_account

_INSERT_TRANSFERS = transfers.insert()


class Journal:
    def __init__(self, tx: Tx, *, operation_id: str, unit: str, wallet_id: str) -> None:
        self._tx = tx
        self.operation_id = operation_id
        self.unit = unit
        self.wallet_id = wallet_id
        self._rows: list[dict[str, object]] = []
        self._posted: defaultdict[str, int] = defaultdict(int)
        self._held: defaultdict[str, int] = defaultdict(int)

    def transfer(self, debit_account: str, credit_account: str, amount: int, kind: str) -> None:
        """Move `amount` (nothing for 0). A negative amount is a bug in the caller, never reversed silently."""
        if amount < 0:
            raise ValueError(f"a transfer's amount is never negative: {kind} of {amount}")
        if amount == 0:
            return
        self._rows.append(
            {
                "id": new_id("trf"),
                "operation_id": self.operation_id,
                "debit_account_id": debit_account,
                "credit_account_id": credit_account,
                "amount": amount,
                "unit": self.unit,
                "kind": kind,
                "created_at": self._tx.now,
            }
        )
        for account, delta in ((debit_account, -amount), (credit_account, amount)):
            if not is_system_account(account):
                self._posted[account] += delta

    def reserve(self, account_id: str, amount: int) -> None:
        self._held[account_id] += amount

    def release(self, account_id: str, amount: int) -> None:
        self._held[account_id] -= amount

    async def post(self) -> WalletState | None:
        """Apply every balance change and write the transfers; returns the wallet's new totals."""
        touched = sorted(set(self._posted) | set(self._held))
        wallet_posted = wallet_held = 0
        for account_id in touched:
            posted, held = self._posted[account_id], self._held[account_id]
            if posted or held:
                await repository.change_account(self._tx, account_id, posted, held)
                if counts_in_wallet(account_id):
                    wallet_posted += posted
                    wallet_held += held
        if self._rows:
            await self._tx.conn.execute(_INSERT_TRANSFERS, self._rows)
        if wallet_posted or wallet_held:
            return await repository.change_wallet(self._tx, self.wallet_id, wallet_posted, wallet_held)
        return None
