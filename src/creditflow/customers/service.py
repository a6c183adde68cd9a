"""Customers: who pays. Creating one opens its wallet in its currency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from creditflow.config import Settings
from creditflow.db.dialect import insert_ignoring_conflicts
from creditflow.db.pagination import newest_first
from creditflow.db.tables import customers
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, CustomerExists, NotFound
from creditflow.ids import new_id
from creditflow.invoices.repository import open_invoice_ids
from creditflow.wallets.lookup import customer_matches
from creditflow.wallets.service import customer_wallets, open_wallet
from creditflow.webhooks.outbox import emit, timestamp_text


@dataclass(slots=True)
class Customer:
    id: str
    external_id: str
    name: str | None
    email: str | None
    currency: str
    timezone: str
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    net_terms_days: int | None


def _from_row(row: Any) -> Customer:
    return Customer(
        id=row.id, external_id=row.external_id, name=row.name, email=row.email, currency=row.currency,
        timezone=row.timezone, metadata=row.metadata, created_at=row.created_at, updated_at=row.updated_at,
        net_terms_days=row.net_terms_days,
    )


async def create_customer(
    tx: Tx,
    *,
    external_id: str,
    currency: str,
    timezone: str = "UTC",
    credit_limit: int = 0,
    name: str | None = None,
    email: str | None = None,
    metadata: dict[str, Any] | None = None,
    low_balance_threshold: int | None = None,
    net_terms_days: int | None = None,
) -> Customer:
    taken = (await tx.conn.execute(select(customers.c.id).where(customers.c.external_id == external_id))).first()
    if taken is not None:
        raise CustomerExists(
            f"a customer with external_id '{external_id}' already exists",
            param="external_id", details={"id": taken.id},
        )
    row = _new_row(tx, external_id, currency, timezone=timezone, name=name, email=email, metadata=metadata)
    row["net_terms_days"] = net_terms_days
    await tx.conn.execute(customers.insert().values(**row))
    return await _opened(tx, row["id"], currency, credit_limit, low_balance_threshold)


def _new_row(
    tx: Tx, external_id: str, currency: str, *, timezone: str = "UTC", name: str | None = None,
    email: str | None = None, metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {"id": new_id("cus"), "external_id": external_id, "name": name, "email": email, "currency": currency,
            "timezone": timezone, "metadata": metadata or {}, "created_at": tx.now, "updated_at": tx.now}


async def _opened(tx: Tx, customer_id: str, currency: str, credit_limit: int, threshold: int | None) -> Customer:
    """A customer row just inserted: its first wallet, and the customer.created event."""
    await open_wallet(tx, customer_id, currency, credit_limit, low_balance_threshold=threshold)
    customer = await get_customer(tx, customer_id)
    await emit(tx, "customer.created", {"customer": event_data(customer)})
    return customer


async def auto_create_customers(tx: Tx, settings: Settings, refs: set[str]) -> list[Customer]:
    """With CREDITFLOW_AUTO_CREATE_CUSTOMERS, the customers `refs` name that don't exist yet, in the default
    currency. Only usage paths call this (events, authorize): a typo must never fund a stranger."""
    if not settings.auto_create_customers:
        return []
    currency = settings.default_currency
    return await create_unknown_customers(
        tx, refs, currency=currency, low_balance_threshold=settings.low_balance_thresholds.get(currency)
    )


async def create_unknown_customers(
    tx: Tx, refs: set[str], *, currency: str, low_balance_threshold: int | None = None
) -> list[Customer]:
    """CREDITFLOW_AUTO_CREATE_CUSTOMERS: a customer for each ref that names none yet, taken as its external_id.

    A ref shaped like our own ids (cus_...) is never an external_id to invent. Concurrent requests naming the
    same new customer create it once: the insert skips a conflict on external_id (PostgreSQL waits for the
    other transaction), and only the request whose row went in opens the wallet."""
    wanted = {ref for ref in refs if 0 < len(ref) <= 255 and not ref.startswith("cus_")}
    if not wanted:
        return []
    known = (
        await tx.conn.execute(select(customers.c.external_id).where(customers.c.external_id.in_(sorted(wanted))))
    ).scalars().all()
    created = []
    for external_id in sorted(wanted - set(known)):
        row = _new_row(tx, external_id, currency)
        if await insert_ignoring_conflicts(tx.conn, customers, [row]):
            created.append(await _opened(tx, row["id"], currency, 0, low_balance_threshold))
    return created


def event_data(customer: Customer) -> dict[str, Any]:
    """The customer as webhooks carry it: the fields the API shows."""
    return {
        "object": "customer", "id": customer.id, "external_id": customer.external_id, "name": customer.name,
        "email": customer.email, "currency": customer.currency, "timezone": customer.timezone,
        "metadata": dict(customer.metadata), "net_terms_days": customer.net_terms_days,
        "created_at": timestamp_text(customer.created_at), "updated_at": timestamp_text(customer.updated_at),
    }


async def get_customer(tx: Tx, ref: str) -> Customer:
    row = (await tx.conn.execute(select(customers).where(customer_matches(ref)).limit(1))).first()
    if row is None:
        raise NotFound(f"no customer '{ref}'", param="customer")
    return _from_row(row)


async def list_customers(
    tx: Tx, *, limit: int, starting_after: str | None, email: str | None = None
) -> list[Customer]:
    query = newest_first(select(customers), customers.c.id, limit=limit, starting_after=starting_after)
    if email is not None:
        # Addresses are compared as people type them: the case of the letters does not matter.
        query = query.where(func.lower(customers.c.email) == email.lower())
    return [_from_row(r) for r in (await tx.conn.execute(query)).all()]


async def update_customer(tx: Tx, ref: str, changes: dict[str, Any]) -> Customer:
    """Change name, email, timezone, metadata or net_terms_days. The currency is fixed: it names the first wallet."""
    customer = await get_customer(tx, ref)
    if changes:
        await tx.conn.execute(
            update(customers).where(customers.c.id == customer.id).values(**changes, updated_at=tx.now)
        )
    return await get_customer(tx, customer.id)


class CustomerNotErasable(Conflict):
    code = "customer_not_erasable"


async def erase_customer(tx: Tx, ref: str) -> Customer:
    """Forget who the customer is (name, email, metadata) and keep its ledger. Refused while it still has a
    balance, holds or an open invoice: those need a person to settle them."""
    customer = await get_customer(tx, ref)
    for view in await customer_wallets(tx, customer.id):
        if view.state.posted or view.state.held or view.debt:
            raise CustomerNotErasable("the customer still has a balance or holds", param="customer")
    if await open_invoice_ids(tx, customer.id):
        raise CustomerNotErasable("the customer still has an open invoice", param="customer")
    await tx.conn.execute(
        update(customers).where(customers.c.id == customer.id).values(
            name=None, email=None, metadata={}, updated_at=tx.now
        )
    )
    return await get_customer(tx, customer.id)
