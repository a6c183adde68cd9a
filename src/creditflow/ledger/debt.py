"""Debt: credits a customer owes beyond any credit limit, because a payment that bought them was taken back
(a dispute or chargeback) after they were spent.

Each wallet has at most one debt account (fixed id, kind `debt`), created by the first debt. It is a cached
customer account whose negative balance is what is owed, but it is not part of the wallet's balance: the
wallet's no-overdraft CHECK keeps holding, and overdraft past the credit limit stays impossible. Recording
a debt raises the account's limit by exactly the amount (so the database still refuses anything more) and
collects at once from the wallet's unheld credits; whatever is left is collected from the next grant, after
the overdraft is repaid (ledger/grants.py), before anything becomes spendable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update

from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.tables import accounts
from creditflow.db.tx import Tx
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import DEBT, debt_account_id, system_account_id


@dataclass(frozen=True, slots=True)
class DebtRecorded:
    operation_id: str
    amount: int
    collected: int
    """Taken at once from the wallet's unheld credits."""
    outstanding: int
    """Still owed after this debt: collected from the next grants."""


async def outstanding_debt(tx: Tx, wallet_id: str) -> int:
    posted = (
        await tx.conn.execute(select(accounts.c.posted).where(accounts.c.id == debt_account_id(wallet_id)))
    ).scalar_one_or_none()
    return -posted if posted else 0


async def record_debt(
    tx: Tx,
    wallet_id: str,
    amount: int,
    *,
    reference_id: str | None,
    description: str,
    metadata: dict[str, Any] | None = None,
    creditor: str = "topups",
) -> DebtRecorded:
    """The customer owes `amount` more: collect what the wallet's unheld credits cover, owe the rest.
    `creditor` is the system account owed: `topups` for money taken back, `revenue` for usage not covered."""
    wallet = await lock_and_sweep(tx, wallet_id)
    assert wallet is not None
    debt_id = debt_account_id(wallet.id)
    await insert_ignoring_conflicts(
        tx.conn, accounts,
        [{"id": debt_id, "kind": DEBT, "customer_id": wallet.customer_id, "wallet_id": wallet.id, "unit": wallet.unit,
          "posted": 0, "held": 0, "credit_limit": 0, "created_at": tx.now}],
    )
    owed = await outstanding_debt(tx, wallet.id) + amount
    await tx.conn.execute(
        update(accounts).where(accounts.c.id == debt_id).values(credit_limit=accounts.c.credit_limit + amount)
    )
    operation_id = new_id("op")
    await repository.insert_operation(
        tx, id=operation_id, kind="debt", unit=wallet.unit, amount=amount, customer_id=wallet.customer_id,
        wallet_id=wallet.id, reference_id=reference_id, description=description, metadata=metadata,
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    # Credits paid for with money that went back are owed to `topups`; usage nothing paid for, to `revenue`.
    journal.transfer(debt_id, system_account_id(creditor, wallet.unit), amount, "debt")
    collected = 0
    for lot in await repository.spendable_lots(tx, wallet.id):
        take = min(lot.available, owed - collected)
        if take <= 0:
            break
        journal.transfer(lot.account_id, debt_id, take, "debt_collect")
        collected += take
    await journal.post()
    return DebtRecorded(operation_id=operation_id, amount=amount, collected=collected, outstanding=owed - collected)


def collect_from_grant(journal: Journal, grant_id: str, wallet_id: str, available: int, owed: int) -> int:
    """A new grant pays the wallet's debt from what is left of it after the overdraft; returns what it paid."""
    paid = min(available, owed)
    journal.transfer(grant_id, debt_account_id(wallet_id), paid, "debt_repay")
    return paid
