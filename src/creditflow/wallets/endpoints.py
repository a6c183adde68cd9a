"""Wallet endpoints, under the customer that owns them."""

from __future__ import annotations

from fastapi import APIRouter, status

from creditflow.customers.service import get_customer
from creditflow.errors import NotFound
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.schemas import Page
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.money import MoneyError, normalize_unit
from creditflow.wallets import service
from creditflow.wallets.schemas import WalletCreate, WalletOut, WalletUpdate

router = APIRouter(
    prefix="/v1/customers/{customer}/wallets", tags=["wallets"], route_class=UnitOfWorkRoute,
    dependencies=[require_operator],
)


@router.get("", response_model=Page[WalletOut])
async def list_wallets(customer: str, tx: TxDep, page: PageDep) -> Page[WalletOut]:
    """The customer's wallets (one page unless it holds more than `limit` units)."""
    found = await get_customer(tx, customer)
    return page.of([WalletOut.of_view(view) for view in await service.customer_wallets(tx, found.id)], lambda w: w.id)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=WalletOut)
async def add_wallet(customer: str, body: WalletCreate, tx: TxDep, settings: SettingsDep) -> WalletOut:
    """Add a wallet in another currency or credit unit (e.g. CREDITS)."""
    found = await get_customer(tx, customer)
    state = await service.open_wallet(
        tx, found.id, body.currency, body.credit_limit,
        low_balance_threshold=settings.low_balance_thresholds.get(body.currency),
    )
    return WalletOut.of_view(await service.view_wallet(tx, state.id))


@router.patch("/{currency}", response_model=WalletOut)
async def update_wallet(customer: str, currency: str, body: WalletUpdate, tx: TxDep) -> WalletOut:
    """Change the wallet's credit limit (how far below zero it may go)."""
    found = await get_customer(tx, customer)
    try:
        unit = normalize_unit(currency)
    except MoneyError:
        raise NotFound(f"no wallet '{currency}'", param="currency") from None
    return WalletOut.of_view(await service.set_credit_limit(tx, found.id, unit, body.credit_limit))
