"""`creditflow check`: recompute every cached balance from the ledger and report any difference."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select

from creditflow.db.dialect import exact_sum, exact_total
from creditflow.db.tables import accounts, hold_allocations, holds, transfers, wallets
from creditflow.db.tx import Tx
from creditflow.ledger.models import DEBT


async def find_discrepancies(tx: Tx) -> list[str]:
    """Every problem found, one sentence each naming the account or wallet; empty when consistent."""
    problems: list[str] = []
    conn = tx.conn
    balance: defaultdict[str, int] = defaultdict(int)
    # Summed without overflow: a system account's transfers can add up past 64 bits.
    for side, sign in ((transfers.c.credit_account_id, 1), (transfers.c.debit_account_id, -1)):
        for account_id, high, low in await conn.execute(
            select(side, *exact_sum(transfers.c.amount)).group_by(side)
        ):
            balance[account_id] += sign * exact_total(high, low)
    reserved: defaultdict[str, int] = defaultdict(int)
    for account_id, high, low in await conn.execute(
        select(hold_allocations.c.account_id, *exact_sum(hold_allocations.c.remaining))
        .select_from(hold_allocations.join(holds, holds.c.id == hold_allocations.c.hold_id))
        .where(holds.c.status == "active")
        .group_by(hold_allocations.c.account_id)
    ):
        reserved[account_id] += exact_total(high, low)
    stray = await conn.execute(
        select(hold_allocations.c.hold_id, hold_allocations.c.account_id)
        .select_from(hold_allocations.join(holds, holds.c.id == hold_allocations.c.hold_id))
        .where(holds.c.status != "active", hold_allocations.c.remaining != 0)
    )
    for hold_id, account_id in stray:
        problems.append(f"hold {hold_id} has ended but still reserves on account {account_id}")

    per_unit: defaultdict[str, int] = defaultdict(int)
    per_wallet: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    rows = await conn.execute(
        select(accounts.c.id, accounts.c.kind, accounts.c.wallet_id, accounts.c.unit, accounts.c.posted,
               accounts.c.held, accounts.c.credit_limit)
    )
    for row in rows:
        computed = balance.get(row.id, 0)
        per_unit[row.unit] += computed
        if row.wallet_id is None:
            continue
        if row.posted != computed:
            problems.append(f"account {row.id}: cached posted {row.posted} but transfers give {computed}")
        held = reserved.get(row.id, 0)
        if row.held != held:
            problems.append(f"account {row.id}: cached held {row.held} but active holds reserve {held}")
        if computed - held < -row.credit_limit:
            problems.append(f"account {row.id}: below its limit of -{row.credit_limit}")
        if row.kind == DEBT:
            continue  # owed outside the wallet: its own cached balance is checked, the wallet's excludes it
        per_wallet[row.wallet_id][0] += computed
        per_wallet[row.wallet_id][1] += held
    for unit, total in sorted(per_unit.items()):
        if total != 0:
            problems.append(f"unit {unit}: accounts sum to {total}, not zero")
    for row in await conn.execute(select(wallets.c.id, wallets.c.posted, wallets.c.held)):
        posted, held = per_wallet.get(row.id, [0, 0])
        if (row.posted, row.held) != (posted, held):
            problems.append(
                f"wallet {row.id}: cached posted/held {row.posted}/{row.held} but its accounts give {posted}/{held}"
            )
    return problems
