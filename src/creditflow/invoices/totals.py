"""Invoice arithmetic, pure and exact: micro-units to minor units, taxes, and totals that add up.

An invoice shows the currency's minor units (money.display_scale: 2 for USD and IDR, 0 for JPY). Amounts
that arrive in micro-units must already be whole minor units: they are what moved, and an invoice that
rounded them would no longer add up to it. Taxes are the one thing computed here, rounded half-up once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from creditflow import money
from creditflow.errors import AmountNotInMinorUnits, InvalidRequest
from creditflow.invoices.models import Line, TaxInput, TaxLine

MAX_RATE_PERCENT = Decimal(100)
RATE_DECIMALS = 4


@dataclass(slots=True, frozen=True)
class Totals:
    """subtotal is net of tax, so subtotal + tax == total whether taxes are inclusive or exclusive."""

    subtotal: int
    tax: int
    total: int


def _step(currency: str) -> int:
    return 10 ** (money.SCALE - money.display_scale(currency))


def to_minor(micros: int, currency: str, *, param: str) -> int:
    """Exact micro-units to minor units; an amount with more decimals than the currency shows is refused."""
    whole, rest = divmod(micros, _step(currency))
    if rest:
        raise AmountNotInMinorUnits(
            f"{money.format(micros, currency)} {currency} is not a whole number of {currency} minor units "
            f"({money.display_scale(currency)} decimal places)",
            param=param,
        )
    return whole


def from_minor(minor: int, currency: str) -> int:
    return minor * _step(currency)


def format_minor(minor: int, currency: str) -> str:
    """Minor units as the API's decimal string at the currency's display scale: 1250 USD -> '12.50'."""
    return money.format(from_minor(minor, currency), currency)


def check_rate(rate: Decimal, *, param: str) -> Decimal:
    if not rate.is_finite() or not Decimal(0) <= rate <= MAX_RATE_PERCENT:
        raise InvalidRequest(f"a tax rate is a percentage from 0 to {MAX_RATE_PERCENT}", param=param)
    if rate != rate.quantize(Decimal(1).scaleb(-RATE_DECIMALS)):
        raise InvalidRequest(f"a tax rate has at most {RATE_DECIMALS} decimal places", param=param)
    return rate


def rate_text(rate: Decimal) -> str:
    """The rate as stored and shown: '11', '7.5' (never '1.1E+1')."""
    return format(rate.normalize(), "f")


def _half_up(value: Fraction) -> int:
    return (2 * value.numerator + value.denominator) // (2 * value.denominator)


def compute_taxes(lines: Sequence[Line], taxes: Sequence[TaxInput], currency: str) -> list[TaxLine]:
    """Tax lines for `lines`: given amounts are kept, the others computed on the lines' sum.

    Exclusive: rate% of the lines. Inclusive: the lines already contain every inclusive tax, so each is
    its rate's share of the lines at 100% + all inclusive rates (CGST 9% + SGST 9% of 118.00: 9.00 each).
    """
    if len({tax.inclusive for tax in taxes}) > 1:
        raise InvalidRequest("taxes on one invoice are either all inclusive or all exclusive", param="taxes")
    gross = sum(line.amount for line in lines)
    if gross < 0:
        raise InvalidRequest("the lines add up to less than zero", param="lines")
    rates = [check_rate(tax.rate_percent, param=f"taxes[{n}].rate_percent") for n, tax in enumerate(taxes)]
    inclusive_rates = sum(Fraction(rate) for rate, tax in zip(rates, taxes, strict=True) if tax.inclusive)
    computed: list[TaxLine] = []
    for n, (tax, rate) in enumerate(zip(taxes, rates, strict=True)):
        if not tax.name.strip():
            raise InvalidRequest("a tax needs a name such as 'VAT'", param=f"taxes[{n}].name")
        if tax.amount is not None:
            if tax.amount < 0:
                raise InvalidRequest("a tax amount must not be negative", param=f"taxes[{n}].amount")
            amount = to_minor(tax.amount, currency, param=f"taxes[{n}].amount")
        elif tax.inclusive:
            amount = _half_up(gross * Fraction(rate) / (100 + inclusive_rates))
        else:
            amount = _half_up(gross * Fraction(rate) / 100)
        computed.append(TaxLine(name=tax.name.strip(), rate_percent=rate, inclusive=tax.inclusive, amount=amount))
    if totals_of(lines, computed).subtotal < 0:
        raise InvalidRequest("the inclusive taxes exceed the lines they are included in", param="taxes")
    return computed


def totals_of(lines: Sequence[Line], tax_lines: Sequence[TaxLine]) -> Totals:
    gross = sum(line.amount for line in lines)
    included = sum(tax.amount for tax in tax_lines if tax.inclusive)
    added = sum(tax.amount for tax in tax_lines if not tax.inclusive)
    return Totals(subtotal=gross - included, tax=included + added, total=gross + added)
