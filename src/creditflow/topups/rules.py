"""Top-up rules per currency (limits, tax, bonus tiers, conversion to a credit unit) and the quote they give.

Configured as CREDITFLOW_TOPUP_RULES, a JSON object keyed by currency; setting it replaces the defaults.
Settings import this module, so it depends on nothing above money.py and errors.py.
Everything here is pure and exact: amounts are micro-units, rates are decimal percentages, and the one
rounding (half-up) happens to the smallest amount the gateway charges, so what the customer is quoted is
exactly what the gateway is asked for and what the invoice shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from creditflow import money
from creditflow.errors import InvalidRequest
from creditflow.money import Amount, PositiveAmount, Unit


class TopupAmountOutOfRange(InvalidRequest):
    """The amount is below the currency's minimum or above its maximum; `details` names the limit."""

    code = "topup_amount_out_of_range"


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TaxRule(_Rule):
    name: str = Field(min_length=1, max_length=100, description="What the invoice calls it: GST, PPN, VAT.")
    rate: Decimal = Field(ge=0, le=100, decimal_places=4, description="Percent: 11 is 11%.")
    mode: Literal["inclusive", "exclusive"] = Field(
        default="exclusive", description="exclusive: added on top of the amount; inclusive: already in it."
    )

    @property
    def inclusive(self) -> bool:
        return self.mode == "inclusive"


class BonusTier(_Rule):
    min: PositiveAmount = Field(description="From this amount (inclusive) of the top-up's currency.")
    percent: Decimal = Field(gt=0, le=1000, description="Bonus credits as a percentage of the credits bought.")


class TopupRule(_Rule):
    min: Amount | None = None
    max: Amount | None = None
    tax: TaxRule | None = None
    bonus_tiers: tuple[BonusTier, ...] = ()
    credit_unit: Unit | None = Field(
        default=None, description="Credit amount top-ups to this unit's wallet (CREDITS) rather than the currency's."
    )
    credit_rate: Decimal | None = Field(default=None, gt=0, description="Credits per 1 unit of the currency.")

    @model_validator(mode="after")
    def _consistent(self) -> TopupRule:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("min must not exceed max")
        if (self.credit_unit is None) != (self.credit_rate is None):
            raise ValueError("credit_unit and credit_rate go together")
        return self


def _default_rules() -> dict[str, TopupRule]:
    # Written as CREDITFLOW_TOPUP_RULES would spell them.
    return {
        "IDR": TopupRule.model_validate({"min": "10000", "max": "10000000", "tax": {"name": "PPN", "rate": "11"}}),
        "INR": TopupRule.model_validate({
            "min": "100", "max": "50000", "tax": {"name": "GST", "rate": "18"},
            "bonus_tiers": [{"min": "500", "percent": "10"}, {"min": "1000", "percent": "15"},
                            {"min": "2000", "percent": "20"}, {"min": "5000", "percent": "25"}],
        }),
    }


DEFAULT_TOPUP_RULES = _default_rules()


def check_rule_currencies(rules: Mapping[str, TopupRule]) -> dict[str, TopupRule]:
    """Settings validator: rules are keyed by ISO currency (the money paid), upper case."""
    checked = {}
    for key, rule in rules.items():
        code = key.strip().upper()
        if not money.is_currency(code):
            raise ValueError(f"top-up rules are keyed by currency; '{key}' is not one creditflow knows")
        checked[code] = rule
    return checked


@dataclass(frozen=True, slots=True)
class CreditTerms:
    """What a package fixes: its credits, their unit, and its own bonus (None: the currency's tiers apply)."""

    credits: int
    credit_unit: str
    bonus_credits: int | None


@dataclass(frozen=True, slots=True)
class Quote:
    currency: str
    amount: int
    """As asked: the package price or the amount. Limits and bonus tiers apply to it."""
    subtotal: int
    """Net of tax: what the credits were bought for (their cost basis)."""
    tax: int
    total: int
    """What the customer pays: subtotal + tax."""
    tax_rule: TaxRule | None
    credit_unit: str
    credits: int
    bonus_credits: int
    discount: int = 0
    """A coupon's money off, before tax: subtotal + tax is what is left to pay."""


def _half_up(value: Fraction, step: int) -> int:
    """`value` rounded half-up to a multiple of `step`."""
    units = value / step
    return (2 * units.numerator + units.denominator) // (2 * units.denominator) * step


def check_limits(rule: TopupRule | None, currency: str, amount: int, *, param: str) -> None:
    if rule is None:
        return
    if rule.min is not None and amount < rule.min:
        raise _out_of_range("minimum", "at least", rule.min, currency, amount, param)
    if rule.max is not None and amount > rule.max:
        raise _out_of_range("maximum", "at most", rule.max, currency, amount, param)


def _out_of_range(limit: str, words: str, bound: int, currency: str, amount: int, param: str) -> TopupAmountOutOfRange:
    shown = money.format(bound, currency)
    return TopupAmountOutOfRange(
        f"a {currency} top-up must be {words} {shown} {currency}; "
        f"{money.format(amount, currency)} {currency} was asked",
        param=param, details={"limit": limit, "amount": shown, "currency": currency},
    )


def quote(
    rule: TopupRule | None, *, currency: str, amount: int, step: int, terms: CreditTerms | None = None,
    param: str = "amount", discount: int = 0,
) -> Quote:
    """Price a top-up of `amount` (micro-units of `currency`); `step` is the smallest amount the gateway charges.

    A `discount` (a coupon's, already rounded to `step`) cuts the money paid before tax, never the credits:
    limits, credits and bonus tiers all follow `amount` as asked."""
    check_limits(rule, currency, amount, param=param)
    tax_rule = rule.tax if rule else None
    undiscounted, _ = _taxed(tax_rule, amount, step)
    subtotal, tax = _taxed(tax_rule, amount - discount, step)
    if terms is not None:
        unit, credits = terms.credit_unit, terms.credits
    elif rule is not None and rule.credit_unit is not None and rule.credit_rate is not None:
        # Credits are kept to 6 decimals like every amount; a rate with more digits rounds there, once.
        unit, credits = rule.credit_unit, _half_up(undiscounted * Fraction(rule.credit_rate), 1)
    else:
        unit, credits = currency, undiscounted
    if terms is not None and terms.bonus_credits is not None:
        bonus = terms.bonus_credits
    else:
        reached = [tier.percent for tier in (rule.bonus_tiers if rule else ()) if amount >= tier.min]
        bonus = _half_up(credits * Fraction(max(reached)) / 100, 1) if reached else 0
    return Quote(
        currency=currency, amount=amount, subtotal=subtotal, tax=tax, total=subtotal + tax, tax_rule=tax_rule,
        credit_unit=unit, credits=credits, bonus_credits=bonus, discount=discount,
    )


def _taxed(tax_rule: TaxRule | None, amount: int, step: int) -> tuple[int, int]:
    """(subtotal net of tax, tax) of `amount` paid; the tax rounded half-up to `step`."""
    if tax_rule is None:
        return amount, 0
    rate = Fraction(tax_rule.rate)
    share = rate / (100 + rate) if tax_rule.inclusive else rate / 100
    tax = _half_up(amount * share, step)
    return (amount - tax if tax_rule.inclusive else amount), tax
