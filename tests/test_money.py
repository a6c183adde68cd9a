"""Exact money: parse to micro-units, format per unit, round at the edge, normalize unit names."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditflow import money
from creditflow.money import MoneyError


@pytest.mark.parametrize(
    ("value", "micros"),
    [("12.50", 12_500_000), ("0.000001", 1), ("0", 0), ("-3.2", -3_200_000), ("7", 7_000_000), (7, 7_000_000),
     (Decimal("0.1"), 100_000), (Decimal("1E+2"), 100_000_000), (" 1.5 ", 1_500_000), ("0.100000", 100_000),
     ("1000000000000", money.MAX_AMOUNT), ("-1000000000000", -money.MAX_AMOUNT)],
)
def test_parse_reads_exact_decimals_as_micro_units(value, micros):
    assert money.parse(value) == micros


@pytest.mark.parametrize("value", ["1000000000000.000001", "9223372036854.775807", 10**13, Decimal("1E+19")])
def test_parse_refuses_an_amount_past_the_largest_as_too_large(value):
    with pytest.raises(money.AmountTooLarge):
        money.parse(value)


def test_parse_is_exact_where_binary_floats_are_not():
    assert money.parse("0.1") + money.parse("0.2") == money.parse("0.3")


@pytest.mark.parametrize(
    "value",
    [0.1, 1.0, True, False, None, [], {}, "", " ", "abc", "1e3", "1.", ".5", "+1", "1,5", "0x1f", "NaN", "Infinity",
     "1.0000001", Decimal("1E-7"), Decimal("NaN"), Decimal("Infinity"), Decimal("-Infinity"), "9223372036854.775808",
     10**30, Decimal("1E+999999999"), Decimal("-1E+999999999"), Decimal("1E-999999999"), "\u0661\u0662"],
)
def test_parse_refuses_anything_not_an_exact_representable_decimal(value):
    with pytest.raises(MoneyError):
        money.parse(value)


@pytest.mark.parametrize(
    ("micros", "unit", "text"),
    [(12_500_000, "USD", "12.50"), (12_000_000, "USD", "12.00"), (1, "USD", "0.000001"), (-1_500_000, "USD", "-1.50"),
     (0, "USD", "0.00"), (1_000_000, "JPY", "1"), (1_500_000, "JPY", "1.5"), (1_000_000, "KWD", "1.000"),
     (1_234_500, "KWD", "1.2345"), (5_000_000, "CREDITS", "5"), (2_500_000, "CREDITS", "2.5"), (0, "CREDITS", "0"),
     (-250_000, "CREDITS", "-0.25"), (3_000_000, "EUR", "3.00"), (3_000_000, "XYZ", "3")],
)
def test_format_shows_at_least_the_units_display_decimals(micros, unit, text):
    assert money.format(micros, unit) == text


@pytest.mark.parametrize("text", ["12.50", "0.000001", "-7.25", "123456789.123456"])
def test_format_round_trips_with_parse(text):
    assert money.format(money.parse(text), "USD") == text


@pytest.mark.parametrize(
    ("micros", "unit", "rounded"),
    [(12_345_000, "USD", 12_350_000), (12_344_999, "USD", 12_340_000), (12_345_678, "USD", 12_350_000),
     (-12_345_000, "USD", -12_350_000), (1_500_000, "JPY", 2_000_000), (1_499_999, "JPY", 1_000_000),
     (2_500_000, "JPY", 3_000_000), (1_234_500, "KWD", 1_235_000), (1_234_499, "KWD", 1_234_000),
     (2_500_000, "CREDITS", 3_000_000), (10_000_000, "USD", 10_000_000)],
)
def test_round_to_minor_is_half_up_to_the_units_minor_units(micros, unit, rounded):
    assert money.round_to_minor(micros, unit) == rounded


@pytest.mark.parametrize(
    ("unit", "normal"), [("usd", "USD"), (" eur ", "EUR"), ("CREDITS", "CREDITS"), ("api_tokens", "API_TOKENS"),
                         ("gpu2", "GPU2"), ("JP", "JP")],
)
def test_normalize_unit_upper_cases_valid_names(unit, normal):
    assert money.normalize_unit(unit) == normal


@pytest.mark.parametrize("unit", ["", "U", "1USD", "_X", "US D", "US-D", "A" * 17, "€UR", None, 840])
def test_normalize_unit_refuses_invalid_names(unit):
    with pytest.raises(MoneyError):
        money.normalize_unit(unit)


@pytest.mark.parametrize(
    ("unit", "scale"), [("USD", 2), ("JPY", 0), ("KWD", 3), ("BHD", 3), ("CREDITS", 0), ("EUR", 2)]
)
def test_display_scale_follows_iso_minor_units(unit, scale):
    assert money.display_scale(unit) == scale


def test_credit_units_are_not_currencies():
    assert money.is_currency("USD") and money.is_currency("JPY")
    assert not money.is_currency("CREDITS")
