"""Money, numbers and times for people, with Babel: per currency and locale, in the viewer's time zone.

Amounts are exact: a balance of Rp 1.000,5 is shown with its half rupiah, never rounded for display.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import NumberPattern, format_decimal, parse_pattern

from creditflow import money

# Where a currency is usually shown when no locale is configured: rupiah in Indonesian, rupees with lakhs.
HOME_LOCALES = {"IDR": "id_ID", "INR": "en_IN", "EUR": "de_DE", "GBP": "en_GB", "JPY": "ja_JP"}
# Currencies whose prices are written without minor units, though ISO gives them two.
WHOLE_UNIT_CURRENCIES = frozenset({"IDR"})
DEFAULT_LOCALE = "en_US"


def locale_for(unit: str, configured: str = "") -> str:
    return configured or HOME_LOCALES.get(unit, DEFAULT_LOCALE)


@lru_cache(maxsize=64)
def _pattern(locale: str, minimum: int) -> tuple[Locale, NumberPattern]:
    parsed = Locale.parse(locale)
    pattern = parse_pattern(parsed.currency_formats["standard"])
    pattern.frac_prec = (minimum, money.SCALE)
    return parsed, pattern


def format_money(micros: int, unit: str, locale: str = "") -> str:
    """12500000 USD -> '$12.50'; 150000000000 IDR -> 'Rp150.000'; 1000000000 CREDITS -> '1,000 CREDITS'."""
    value = Decimal(micros).scaleb(-money.SCALE)
    chosen = locale_for(unit, locale)
    if not money.is_currency(unit):
        return f"{format_decimal(value, locale=chosen, decimal_quantization=False)} {unit}"
    minimum = 0 if unit in WHOLE_UNIT_CURRENCIES else money.display_scale(unit)
    parsed, pattern = _pattern(chosen, minimum)
    return pattern.apply(value, parsed, currency=unit, currency_digits=False)


def format_number(value: int | Decimal, locale: str = DEFAULT_LOCALE) -> str:
    return format_decimal(value, locale=locale or DEFAULT_LOCALE, decimal_quantization=False)


def format_time(moment: datetime | None, timezone: str, locale: str = DEFAULT_LOCALE) -> str:
    """A moment in the viewer's zone, e.g. 'Dec 2, 2026, 5:07 PM'; an empty string for none."""
    if moment is None:
        return ""
    return format_datetime(moment, "medium", tzinfo=ZoneInfo(timezone), locale=locale or DEFAULT_LOCALE)


def format_date(moment: datetime | None, timezone: str, locale: str = DEFAULT_LOCALE) -> str:
    if moment is None:
        return ""
    return format_datetime(moment, "MMM d, y", tzinfo=ZoneInfo(timezone), locale=locale or DEFAULT_LOCALE)
