"""Credit packages: a price in money for credits in a unit, optionally with the package's own bonus."""

from __future__ import annotations

from collections.abc import Mapping

from creditflow import money
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.invoices.totals import to_minor
from creditflow.topups import repository
from creditflow.topups.models import Package
from creditflow.topups.rules import CreditTerms, TopupRule, check_limits

ACTIVE = "active"


class PackageArchived(Conflict):
    code = "package_archived"


def check_price_currency(currency: str, *, param: str) -> None:
    """Top-ups are paid in money: a currency creditflow knows, not a credit unit such as CREDITS."""
    if not money.is_currency(currency):
        raise InvalidRequest(f"{currency} is not a currency a top-up can be paid in", param=param)


async def create_package(
    tx: Tx,
    *,
    name: str,
    price: int,
    currency: str,
    credits: int,
    credit_unit: str | None,
    bonus_credits: int | None,
    rules: Mapping[str, TopupRule],
) -> Package:
    check_price_currency(currency, param="price.currency")
    # The price must be invoiceable as it is, and buyable under the currency's limits.
    to_minor(price, currency, param="price.amount")
    check_limits(rules.get(currency), currency, price, param="price.amount")
    package_id = new_id("pkg")
    await repository.insert_package(
        tx, id=package_id, name=name, price=price, currency=currency, credits=credits,
        credit_unit=credit_unit or currency, bonus_credits=bonus_credits,
    )
    return await get_package(tx, package_id)


async def get_package(tx: Tx, package_id: str) -> Package:
    package = await repository.load_package(tx, package_id)
    if package is None:
        raise NotFound(f"no package '{package_id}'", param="package")
    return package


async def list_packages(tx: Tx, *, status: str | None, limit: int, starting_after: str | None) -> list[Package]:
    return await repository.list_packages(tx, status=status, limit=limit, starting_after=starting_after)


async def archive_package(tx: Tx, package_id: str) -> Package:
    """Archived packages can no longer be bought; top-ups already made from them are unaffected."""
    await get_package(tx, package_id)
    await repository.archive_package(tx, package_id)
    return await get_package(tx, package_id)


async def terms_of(tx: Tx, package_id: str) -> tuple[Package, CreditTerms]:
    """An active package and the credits it fixes, for a new top-up."""
    package = await get_package(tx, package_id)
    if package.status != ACTIVE:
        raise PackageArchived(f"package '{package_id}' is archived and can no longer be bought", param="package")
    terms = CreditTerms(credits=package.credits, credit_unit=package.credit_unit, bonus_credits=package.bonus_credits)
    return package, terms
