"""Credit grants (lots): grant, void, read."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from creditflow import money
from creditflow.db.pagination import newest_first
from creditflow.db.tables import accounts, credit_grants
from creditflow.db.tx import Tx
from creditflow.errors import AmountTooLarge, GrantNotActive, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.debt import collect_from_grant, outstanding_debt
from creditflow.ledger.expiry import lock_and_sweep
from creditflow.ledger.journal import Journal
from creditflow.ledger.models import LOT, PAID, Grant, WalletState, system_account_id
from creditflow.money import MAX_AMOUNT, MAX_BALANCE, MICROS
from creditflow.wallets.lookup import resolve_wallet

DEFAULT_PRIORITY = 50


def _source_account(category: str, unit: str) -> str:
    return system_account_id("topups" if category == PAID else "promotions", unit)


async def grant_credits(
    tx: Tx,
    *,
    customer: str,
    amount: int,
    unit: str | None,
    category: str,
    priority: int = DEFAULT_PRIORITY,
    expires_at: datetime | None = None,
    cost_amount: int | None = None,
    cost_unit: str | None = None,
    source: str = "manual",
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    promotional_share: int = 0,
) -> Grant:
    """Add a credit lot. It repays the wallet's overdraft first, then its debt; the rest becomes spendable.

    `promotional_share`: the part of a paid lot nobody paid for (a coupon's discount), funded by the promotions
    account rather than top-ups, so reports see the discount as a promotion."""
    if expires_at is not None and expires_at <= tx.now:
        raise InvalidRequest("expires_at must be in the future", param="expires_at")
    ref = await resolve_wallet(tx, customer, unit)
    wallet = await lock_and_sweep(tx, ref.wallet_id)
    assert wallet is not None
    if not fits(wallet, amount):
        raise AmountTooLarge(
            money.TOO_LARGE_MESSAGE if amount > MAX_AMOUNT
            else f"the wallet's balance would pass the largest balance of {MAX_BALANCE // MICROS} units",
            param="amount",
        )
    grant_id, operation_id = new_id("grt"), new_id("op")
    await tx.conn.execute(
        accounts.insert().values(
            id=grant_id, kind=LOT, customer_id=ref.customer_id, wallet_id=wallet.id, unit=wallet.unit,
            posted=0, held=0, credit_limit=0, created_at=tx.now,
        )
    )
    await repository.insert_operation(
        tx, id=operation_id, kind="grant", unit=wallet.unit, amount=amount, customer_id=ref.customer_id,
        wallet_id=wallet.id, reference_id=grant_id, description=description, metadata=metadata,
    )
    await tx.conn.execute(
        credit_grants.insert().values(
            id=grant_id, customer_id=ref.customer_id, wallet_id=wallet.id, unit=wallet.unit, amount=amount,
            category=category, priority=priority, expires_at=expires_at, cost_amount=cost_amount,
            cost_unit=cost_unit, source=source, status="active", description=description,
            metadata=metadata or {}, operation_id=operation_id, created_at=tx.now,
        )
    )
    journal = Journal(tx, operation_id=operation_id, unit=wallet.unit, wallet_id=wallet.id)
    journal.transfer(_source_account(category, wallet.unit), grant_id, amount - promotional_share, "grant")
    journal.transfer(system_account_id("promotions", wallet.unit), grant_id, promotional_share, "grant")
    overdraft = await repository.overdraft_of(tx, wallet)
    repaid = min(amount, max(-overdraft.posted, 0))
    journal.transfer(grant_id, overdraft.account_id, repaid, "overdraft_repay")
    collect_from_grant(journal, grant_id, wallet.id, amount - repaid, await outstanding_debt(tx, wallet.id))
    await journal.post()
    if expires_at is not None:
        await repository.lower_next_expiry(tx, wallet, expires_at)
    return await get_grant(tx, grant_id)


def fits(wallet: WalletState, amount: int) -> bool:
    """Whether granting `amount` keeps within the bounds (money.py): checked before anything is written."""
    return amount <= MAX_AMOUNT and wallet.posted + amount <= MAX_BALANCE


async def room_for(tx: Tx, customer_id: str, unit: str, amount: int) -> bool:
    """Whether the customer's wallet in `unit` can take a grant of `amount` now (locks the wallet)."""
    ref = await resolve_wallet(tx, customer_id, unit)
    wallet = await repository.lock_wallet(tx, ref.wallet_id)
    return wallet is not None and fits(wallet, amount)


async def void_grant(tx: Tx, grant_id: str) -> Grant:
    """Void the unheld remainder of a lot; a held part goes to breakage when its hold releases it."""
    grant = await get_grant(tx, grant_id)
    wallet = await lock_and_sweep(tx, grant.wallet_id)
    assert wallet is not None
    grant = await get_grant(tx, grant_id)
    if grant.status != "active":
        raise GrantNotActive(f"grant {grant_id} is {grant.status}", param="grant")
    operation_id = new_id("op")
    unheld = grant.remaining - grant.held
    await repository.insert_operation(
        tx, id=operation_id, kind="grant_void", unit=grant.unit, amount=unheld, customer_id=grant.customer_id,
        wallet_id=grant.wallet_id, reference_id=grant_id,
    )
    journal = Journal(tx, operation_id=operation_id, unit=grant.unit, wallet_id=grant.wallet_id)
    journal.transfer(grant_id, _source_account(grant.category, grant.unit), unheld, "void")
    await journal.post()
    await tx.conn.execute(
        update(credit_grants).where(credit_grants.c.id == grant_id).values(status="voided", ended_at=tx.now)
    )
    return await get_grant(tx, grant_id)


_GRANT_QUERY = select(credit_grants, accounts.c.posted, accounts.c.held).select_from(
    credit_grants.join(accounts, accounts.c.id == credit_grants.c.id)
)


def grant_from_row(tx: Tx, row: Any) -> Grant:
    """A lot as of tx.now: past its expiry only its held part remains, even before a sweep has run."""
    lapsed = row.status == "active" and row.expires_at is not None and row.expires_at <= tx.now
    return Grant(
        id=row.id, customer_id=row.customer_id, wallet_id=row.wallet_id, unit=row.unit, amount=row.amount,
        remaining=row.held if lapsed else row.posted, held=row.held, category=row.category,
        priority=row.priority, expires_at=row.expires_at, cost_amount=row.cost_amount, cost_unit=row.cost_unit,
        source=row.source, status="expired" if lapsed else row.status, description=row.description,
        metadata=row.metadata, created_at=row.created_at, ended_at=row.expires_at if lapsed else row.ended_at,
    )


async def get_grant(tx: Tx, grant_id: str) -> Grant:
    row = (await tx.conn.execute(_GRANT_QUERY.where(credit_grants.c.id == grant_id))).first()
    if row is None:
        raise NotFound(f"no credit grant '{grant_id}'", param="id")
    return grant_from_row(tx, row)


async def list_grants(
    tx: Tx, *, customer_id: str | None, limit: int, starting_after: str | None
) -> list[Grant]:
    query = newest_first(_GRANT_QUERY, credit_grants.c.id, limit=limit, starting_after=starting_after)
    if customer_id is not None:
        query = query.where(credit_grants.c.customer_id == customer_id)
    return [grant_from_row(tx, r) for r in (await tx.conn.execute(query)).all()]


async def lots_of_wallet(tx: Tx, wallet_id: str) -> list[Grant]:
    """The wallet's live lots, in draw order (what the wallet view lists)."""
    query = (
        _GRANT_QUERY.where(credit_grants.c.wallet_id == wallet_id, credit_grants.c.status == "active")
        .order_by(*repository.draw_order())
    )
    return [grant_from_row(tx, r) for r in (await tx.conn.execute(query)).all()]
