"""Resolve (customer reference, unit) to a wallet in one query: the first step of every money call."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from creditflow.db.tables import customers, wallets
from creditflow.db.tx import Tx
from creditflow.errors import NotFound, WalletNotFound


@dataclass(slots=True, frozen=True)
class WalletRef:
    customer_id: str
    wallet_id: str
    unit: str


def customer_matches(ref: str):
    """A customer is addressed by its id or by the operator's external_id."""
    return or_(customers.c.id == ref, customers.c.external_id == ref)


async def resolve_wallet(tx: Tx, customer_ref: str, unit: str | None) -> WalletRef:
    """The customer's wallet in `unit`, or in the customer's own currency when unit is None."""
    wanted_unit = unit if unit is not None else customers.c.currency
    row = (
        await tx.conn.execute(
            select(customers.c.id, wallets.c.id.label("wallet_id"), wallets.c.unit)
            .select_from(customers.join(wallets, wallets.c.customer_id == customers.c.id))
            .where(customer_matches(customer_ref), wallets.c.unit == wanted_unit)
            .limit(1)
        )
    ).first()
    if row is not None:
        return WalletRef(row.id, row.wallet_id, row.unit)
    customer = (
        await tx.conn.execute(select(customers.c.id, customers.c.currency).where(customer_matches(customer_ref)))
    ).first()
    if customer is None:
        raise NotFound(f"no customer '{customer_ref}'", param="customer")
    missing = unit or customer.currency
    raise WalletNotFound(
        f"customer '{customer_ref}' has no wallet in {missing}; add one with POST /v1/customers/{{customer}}/wallets",
        param="currency",
    )
