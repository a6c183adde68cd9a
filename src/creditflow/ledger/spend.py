"""Set-based debits: many debits in one transaction with a fixed number of statements.

This is the hot path. Wallets are locked in id order (one query), their lots read (one query), every
debit planned in memory in arrival order (so two debits on one wallet see each other), then all
balance changes, operations and transfers are written with one executemany each. The CHECK
constraints on accounts and wallets remain the last word: if planning were ever wrong the whole
transaction fails rather than overdraw. `debit()` in debits.py is this with a batch of one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Select, and_, bindparam, or_, select

from creditflow import money
from creditflow.budgets import guard as budget_guard
from creditflow.budgets.guard import BudgetState
from creditflow.db.dialect import fetch_mappings, one_of_param
from creditflow.db.tables import accounts, credit_grants, customers, wallets
from creditflow.db.tx import Tx
from creditflow.db.types import UTCDateTime
from creditflow.errors import DomainError, InsufficientFunds, NotFound, WalletNotFound
from creditflow.ids import new_id
from creditflow.ledger import repository
from creditflow.ledger.bulk_write import SpendBatch, write_batch
from creditflow.ledger.expiry import sweep_wallet
from creditflow.ledger.models import OVERDRAFT, DebitResult, Draw, Lot, WalletState, system_account_id
from creditflow.ledger.repository import draw_order


@dataclass(slots=True)
class DebitRequest:
    customer: str
    amount: int
    unit: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None
    api_key_id: str | None = None


@dataclass(slots=True)
class WalletBook:
    """A locked wallet's balances, kept current in memory while the batch is planned."""

    state: WalletState
    customer_external_id: str
    customer_currency: str
    overdraft: Lot
    lots: list[Lot] = field(default_factory=list)
    budgets: list[BudgetState] = field(default_factory=list)


_LOCK_QUERY_COLUMNS = (
    wallets.c.id, wallets.c.customer_id, wallets.c.unit, wallets.c.credit_limit, wallets.c.posted,
    wallets.c.held, wallets.c.overdraft_account_id, wallets.c.next_expiry_at, wallets.c.budgeted,
    customers.c.external_id, customers.c.currency,
)


@functools.cache
def _lock_query(dialect: str) -> Select[Any]:
    """Built once per dialect: the hot path should not pay for building and hashing statements."""
    return (
        select(*_LOCK_QUERY_COLUMNS)
        .select_from(wallets.join(customers, customers.c.id == wallets.c.customer_id))
        .where(
            or_(one_of_param(dialect, customers.c.id, "refs"), one_of_param(dialect, customers.c.external_id, "refs"))
        )
        .order_by(wallets.c.id)
        .with_for_update(of=wallets)
    )


async def _lock_wallets(tx: Tx, refs: set[str]) -> list[WalletBook]:
    """Lock the wallets of the referenced customers, in id order (the order every writer uses).

    Only wallet and customer columns are read here: on PostgreSQL a statement that waited for a row
    lock re-reads the locked row but not the rows it joins, so balances of other rows come next, in
    a statement of their own (a fresh snapshot).
    """
    rows = await fetch_mappings(tx.conn, _lock_query(tx.conn.dialect.name), {"refs": sorted(refs)})
    return [
        WalletBook(
            state=WalletState(
                row["id"], row["customer_id"], row["unit"], row["credit_limit"], row["posted"], row["held"],
                row["overdraft_account_id"], row["next_expiry_at"], row["budgeted"],
            ),
            customer_external_id=row["external_id"], customer_currency=row["currency"],
            overdraft=Lot(row["overdraft_account_id"], 0, 0),
        )
        for row in rows
    ]


@functools.cache
def _accounts_query(dialect: str) -> Select[Any]:
    now = bindparam("now", type_=UTCDateTime())
    spendable_lot = and_(
        credit_grants.c.status == "active",
        accounts.c.posted > accounts.c.held,
        or_(credit_grants.c.expires_at.is_(None), credit_grants.c.expires_at > now),
    )
    return (
        select(accounts.c.wallet_id, accounts.c.id, accounts.c.kind, accounts.c.posted, accounts.c.held,
               accounts.c.credit_limit, credit_grants.c.expires_at)
        .select_from(accounts.outerjoin(credit_grants, credit_grants.c.id == accounts.c.id))
        .where(
            one_of_param(dialect, accounts.c.wallet_id, "wallet_ids"),
            or_(accounts.c.kind == OVERDRAFT, spendable_lot),
        )
        .order_by(accounts.c.wallet_id, *draw_order())
    )


async def _load_accounts(tx: Tx, books: dict[str, WalletBook]) -> None:
    """Read each locked wallet's overdraft account and spendable lots (in draw order), in one query."""
    rows = await fetch_mappings(
        tx.conn, _accounts_query(tx.conn.dialect.name), {"wallet_ids": list(books), "now": tx.now}
    )
    for row in rows:
        book = books[row["wallet_id"]]
        if row["kind"] == OVERDRAFT:
            book.overdraft = Lot(row["id"], row["posted"], row["held"], row["credit_limit"])
        else:
            book.lots.append(Lot(row["id"], row["posted"], row["held"], expires_at=row["expires_at"]))


async def open_books(tx: Tx, refs: set[str]) -> list[WalletBook]:
    """Lock every wallet of the referenced customers (ids or external ids), apply due expiry, read balances."""
    books = await _lock_wallets(tx, refs)
    due = [b for b in books if b.state.next_expiry_at is not None and b.state.next_expiry_at <= tx.now]
    if due:
        # Rare: expiry is due. Sweep those wallets, then read the (changed) balances again.
        for book in due:
            await sweep_wallet(tx, book.state)
        books = await _lock_wallets(tx, refs)
    await _load_accounts(tx, {b.state.id: b for b in books})
    budgeted = [b for b in books if b.state.budgeted]
    if budgeted:
        by_wallet = await budget_guard.load_budgets(tx, [b.state for b in budgeted])
        for book in budgeted:
            book.budgets = by_wallet.get(book.state.id, [])
    return books


def find_book(books: list[WalletBook], customer: str, unit: str | None) -> WalletBook:
    """The customer's wallet in `unit` (default: the customer's currency) among the locked ones."""
    mine = [b for b in books if customer in (b.state.customer_id, b.customer_external_id)]
    if not mine:
        raise NotFound(f"no customer '{customer}'", param="customer")
    wanted = unit or mine[0].customer_currency
    for book in mine:
        if book.state.unit == wanted:
            return book
    raise WalletNotFound(
        f"customer '{customer}' has no wallet in {wanted}; add one with POST /v1/customers/{{customer}}/wallets",
        param="currency",
    )


@dataclass(slots=True)
class SharedDebit:
    """One debit operation that several charges on one locked wallet add up to, with one transfer per
    account drawn: a batch's usage events of one (wallet, api key) are one ledger operation, not one each.

    `drawn` keeps the accounts in the order they were first drawn (a refund walks it backwards).
    """

    id: str
    book: WalletBook
    api_key_id: str | None
    watching: list[BudgetState]
    amount: int = 0
    charges: int = 0
    drawn: dict[str, int] = field(default_factory=dict)


def open_debit(book: WalletBook, api_key_id: str | None = None) -> SharedDebit:
    """A new, empty debit on a locked wallet; it writes nothing until add_charge and close_debit."""
    return SharedDebit(new_id("op"), book, api_key_id, budget_guard.applicable(book.budgets, api_key_id))


def add_charge(tx: Tx, batch: SpendBatch, debit: SharedDebit, amount: int) -> None:
    """Plan `amount` more on `debit`: lots in draw order, then the overdraft; the in-memory balances (and
    budget spend) move with it.

    Raises InsufficientFunds or BudgetExceeded, having changed nothing, when the wallet cannot cover
    `amount` or a blocking budget would be exceeded.
    """
    book = debit.book
    wallet = book.state
    if amount > wallet.posted - wallet.held + wallet.credit_limit:
        raise InsufficientFunds(
            "the wallet's available balance does not cover this amount", param="amount",
            details={"available": money.format(wallet.available, wallet.unit), "currency": wallet.unit},
        )
    if debit.watching:
        budget_guard.check(debit.watching, amount)
    # Planned in full before anything moves, so a shortfall changes nothing.
    plan: list[tuple[Lot, int]] = []
    left = amount
    for lot in book.lots:
        available = lot.posted - lot.held + lot.credit_limit
        if available > 0:
            take = available if available < left else left
            plan.append((lot, take))
            left -= take
            if not left:
                break
    if left:
        if book.overdraft.available < left:
            raise InsufficientFunds("the wallet's available balance does not cover this amount", param="amount")
        plan.append((book.overdraft, left))
    account_deltas, drawn = batch.account_deltas, debit.drawn
    for lot, take in plan:
        lot.posted -= take
        account_deltas[lot.account_id] = account_deltas.get(lot.account_id, 0) - take
        drawn[lot.account_id] = drawn.get(lot.account_id, 0) + take
    wallet.posted -= amount
    batch.wallet_deltas[wallet.id] = batch.wallet_deltas.get(wallet.id, 0) - amount
    debit.amount += amount
    debit.charges += 1
    if debit.watching:
        budget_guard.record_spend(batch.budgets, debit.watching, amount, tx.now)


def close_debit(
    tx: Tx,
    batch: SpendBatch,
    debit: SharedDebit,
    *,
    actor: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> None:
    """Add the debit's operation and its transfers (one per account drawn) to `batch`; nothing if it is empty."""
    if not debit.amount:
        return
    wallet = debit.book.state
    revenue = system_account_id("revenue", wallet.unit)
    now = tx.now
    batch.operations.append(
        {"id": debit.id, "kind": "debit", "customer_id": wallet.customer_id, "wallet_id": wallet.id,
         "unit": wallet.unit, "amount": debit.amount, "reversed_amount": 0, "reference_id": None,
         "actor": actor or tx.actor, "description": description, "metadata": metadata or {}, "created_at": now,
         "api_key_id": debit.api_key_id}
    )
    batch.transfers += [
        {"id": new_id("trf"), "operation_id": debit.id, "debit_account_id": account_id,
         "credit_account_id": revenue, "amount": amount, "unit": wallet.unit, "kind": "debit", "created_at": now}
        for account_id, amount in debit.drawn.items()
    ]


def charge(
    tx: Tx,
    batch: SpendBatch,
    book: WalletBook,
    amount: int,
    *,
    actor: str | None = None,
    description: str | None = None,
    metadata: dict[str, Any] | None = None,
    api_key_id: str | None = None,
) -> DebitResult:
    """Plan one debit on a locked wallet and add its rows to `batch`; the in-memory balances (and budget
    spend) move with it.

    Raises InsufficientFunds or BudgetExceeded, having changed nothing, when the wallet cannot cover
    `amount` or a blocking budget would be exceeded.
    """
    debit = open_debit(book, api_key_id)
    add_charge(tx, batch, debit, amount)
    close_debit(tx, batch, debit, actor=actor, description=description, metadata=metadata)
    return DebitResult(
        id=debit.id, customer_id=book.state.customer_id, unit=book.state.unit, amount=amount, refunded=0,
        drawn=[Draw(account_id, drawn) for account_id, drawn in debit.drawn.items()], wallet=replace(book.state),
        description=description, metadata=metadata or {}, created_at=tx.now, api_key_id=api_key_id,
    )


async def debit_many(tx: Tx, requests: list[DebitRequest]) -> list[DebitResult | DomainError]:
    """Debit each request in order; a refused one (no funds, unknown customer) writes nothing."""
    books = await open_books(tx, {r.customer for r in requests})
    key_owners = await repository.api_key_owners(tx, {r.api_key_id for r in requests if r.api_key_id})
    batch = SpendBatch()
    outcomes: list[DebitResult | DomainError] = []
    for request in requests:
        try:
            book = find_book(books, request.customer, request.unit)
            if request.api_key_id is not None:
                mismatch = repository.api_key_mismatch(
                    request.api_key_id, key_owners.get(request.api_key_id), book.state.customer_id
                )
                if mismatch is not None:
                    raise mismatch
            outcomes.append(
                charge(tx, batch, book, request.amount, actor=request.actor, description=request.description,
                       metadata=request.metadata, api_key_id=request.api_key_id)
            )
        except DomainError as error:
            outcomes.append(error)
    await write_batch(tx, batch)
    return outcomes
