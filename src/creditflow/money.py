"""Exact money. Every amount is an int of micro-units (6 decimal places) of its unit; never a float.

The API speaks decimal strings ("12.50"). JSON numbers are read from their decimal text (see
http/json_body.py), so 0.1 arrives as Decimal("0.1"), never as a binary float.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal, Inexact, InvalidOperation, Overflow, Underflow
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

SCALE = 6
MICROS = 10**SCALE
MAX_MICROS = 2**63 - 1
# The bounds that keep every sum the ledger computes inside 64 bits: a balance plus the largest amount plus the
# largest credit limit stays under 2**63. Services answer 422 amount_too_large; database CHECKs back them.
MAX_AMOUNT = 10**18
"""The largest amount of one operation: 10^12 units of any unit."""
MAX_BALANCE = 4 * 10**18
"""The largest balance (posted, held, usage total) of one account or wallet: 4 x 10^12 units."""
MAX_CREDIT_LIMIT = MAX_AMOUNT
_AMOUNT_TEXT = re.compile(r"^-?\d+(\.\d+)?$", re.ASCII)
# Scaling happens in a context that refuses, rather than rounds or overflows, anything inexact.
_EXACT = Context(prec=60, Emax=60, Emin=-60, traps=[Overflow, Underflow, Inexact, InvalidOperation])
_UNIT = re.compile(r"^[A-Z][A-Z0-9_]{1,15}$")

# ISO 4217 minor units for display and invoices; anything not listed that is three letters shows 2.
# Credit units (CREDITS, TOKENS, ...) show as many decimals as they carry, at least none.
_ISO_EXPONENTS = {
    "BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
    "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
    "BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}
_ISO_CURRENCIES = {
    "AED", "ARS", "AUD", "BDT", "BRL", "CAD", "CHF", "CNY", "COP", "CZK", "DKK", "EGP", "EUR", "GBP",
    "HKD", "HUF", "IDR", "ILS", "INR", "KES", "LKR", "MXN", "MYR", "NGN", "NOK", "NPR", "NZD", "PEN",
    "PHP", "PKR", "PLN", "RON", "RUB", "SAR", "SEK", "SGD", "THB", "TRY", "TWD", "UAH", "USD", "ZAR",
    *_ISO_EXPONENTS,
}


class MoneyError(ValueError):
    """An amount or unit that cannot be represented exactly."""


class AmountTooLarge(MoneyError):
    """An amount beyond MAX_AMOUNT."""


TOO_LARGE_MESSAGE = f"an amount is at most {MAX_AMOUNT // MICROS} units (10^12)"


def normalize_unit(unit: str) -> str:
    """Upper-case and validate a currency (ISO 4217) or credit unit name such as CREDITS."""
    value = unit.strip().upper() if isinstance(unit, str) else ""
    if not _UNIT.match(value):
        raise MoneyError("a currency or credit unit is 2 to 16 letters, digits or _ and starts with a letter")
    return value


def display_scale(unit: str) -> int:
    """Decimals shown for a unit: the ISO minor units of a currency, 0 for a credit unit."""
    if unit in _ISO_EXPONENTS:
        return _ISO_EXPONENTS[unit]
    return 2 if unit in _ISO_CURRENCIES else 0


def is_currency(unit: str) -> bool:
    return unit in _ISO_CURRENCIES


def parse(value: Any) -> int:
    """Read an exact decimal (str, int or Decimal) as micro-units. Floats and excess decimals are refused."""
    if isinstance(value, (bool, float)):
        raise MoneyError("send amounts as decimal strings such as \"12.50\"")
    if isinstance(value, int):
        dec = Decimal(value)
    elif isinstance(value, Decimal):
        dec = value
    elif isinstance(value, str):
        text = value.strip()
        if not _AMOUNT_TEXT.match(text):
            raise MoneyError(f"'{value}' is not a decimal amount such as \"12.50\"")
        try:
            dec = Decimal(text)
        except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only valid text
            raise MoneyError(f"'{value}' is not a decimal amount") from exc
    else:
        raise MoneyError("an amount is a decimal string such as \"12.50\"")
    if not dec.is_finite():
        raise MoneyError("an amount must be a finite number")
    if dec.adjusted() > 18:
        raise AmountTooLarge(TOO_LARGE_MESSAGE)
    if dec != 0 and dec.adjusted() < -SCALE:
        raise MoneyError(f"at most {SCALE} decimal places are allowed")
    try:
        micros = _EXACT.multiply(dec, Decimal(MICROS))
        integral = _EXACT.to_integral_exact(micros)
    except ArithmeticError:
        raise MoneyError(f"at most {SCALE} decimal places are allowed") from None
    if micros != integral:
        raise MoneyError(f"at most {SCALE} decimal places are allowed")
    result = int(integral)
    if abs(result) > MAX_AMOUNT:
        raise AmountTooLarge(TOO_LARGE_MESSAGE)
    return result


def format(micros: int, unit: str) -> str:
    """Micro-units as a decimal string with at least the unit's display decimals: 12500000 USD -> '12.50'."""
    sign = "-" if micros < 0 else ""
    whole, frac = divmod(abs(micros), MICROS)
    frac_text = f"{frac:0{SCALE}d}".rstrip("0")
    minimum = display_scale(unit)
    frac_text = frac_text.ljust(minimum, "0")
    return f"{sign}{whole}.{frac_text}" if frac_text else f"{sign}{whole}"


def round_to_minor(micros: int, unit: str) -> int:
    """Round half-up to the unit's minor units, returning micro-units (used once, at an edge)."""
    step = 10 ** (SCALE - display_scale(unit))
    quantized = (Decimal(micros) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(quantized) * step


class _AmountType:
    """Pydantic type: accepts decimal text, int or Decimal; yields int micro-units; documented as a string."""

    positive: bool = False

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> int:
            try:
                micros = parse(value)
            except AmountTooLarge as exc:
                raise PydanticCustomError("amount_too_large", str(exc)) from None
            except MoneyError as exc:
                raise PydanticCustomError("amount", str(exc)) from None
            if cls.positive and micros <= 0:
                raise PydanticCustomError("amount", "the amount must be greater than zero")
            if micros < 0:
                raise PydanticCustomError("amount", "the amount must not be negative")
            return micros

        return core_schema.no_info_plain_validator_function(validate)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": r"^\d+(\.\d{1,6})?$",
            "examples": ["12.50"],
            "description": "Exact decimal amount, at most 6 decimal places.",
        }


class _PositiveAmountType(_AmountType):
    positive = True


class _UnitType:
    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> core_schema.CoreSchema:
        def validate(value: Any) -> str:
            try:
                return normalize_unit(value)
            except MoneyError as exc:
                raise PydanticCustomError("unit", str(exc)) from None

        return core_schema.no_info_plain_validator_function(validate)

    @classmethod
    def __get_pydantic_json_schema__(
        cls, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"type": "string", "examples": ["USD", "CREDITS"], "description": "Currency or credit unit."}


Amount = Annotated[int, _AmountType]
PositiveAmount = Annotated[int, _PositiveAmountType]
Unit = Annotated[str, _UnitType]
