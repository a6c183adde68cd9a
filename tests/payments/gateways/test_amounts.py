"""Micro-units to gateway minor units: exact or refused, never rounded."""

from __future__ import annotations

import pytest

from creditflow import money
from creditflow.payments.gateways.amounts import from_minor, require_currency, to_minor
from creditflow.payments.gateways.errors import UnsupportedAmount, UnsupportedCurrency


@pytest.mark.parametrize(
    ("amount", "exponent", "multiple_of", "minor"),
    [("12.34", 2, 1, 1234), ("10000", 0, 1, 10000), ("1.234", 3, 1, 1234), ("1.23", 3, 10, 1230),
     ("7", 2, 100, 700), ("0.000001", 6, 1, 1)],
)
def test_exact_amounts_convert(amount: str, exponent: int, multiple_of: int, minor: int) -> None:
    micros = money.parse(amount)
    assert to_minor("gw", micros, "XXX", exponent=exponent, multiple_of=multiple_of) == minor
    assert from_minor(minor, exponent=exponent) == micros


@pytest.mark.parametrize(
    ("amount", "exponent", "multiple_of"),
    [("12.345", 2, 1), ("10000.5", 0, 1), ("1.234", 3, 10), ("7.5", 2, 100), ("0", 2, 1), ("-1", 2, 1)],
)
def test_inexact_and_non_positive_amounts_are_refused(amount: str, exponent: int, multiple_of: int) -> None:
    with pytest.raises(UnsupportedAmount) as refused:
        to_minor("gw", money.parse(amount), "IDR", exponent=exponent, multiple_of=multiple_of)
    assert refused.value.param == "amount" and refused.value.details["gateway"] == "gw"


def test_the_refusal_says_what_the_gateway_takes() -> None:
    with pytest.raises(UnsupportedAmount) as refused:
        to_minor("midtrans", money.parse("10000.50"), "IDR", exponent=0)
    assert refused.value.message == "midtrans takes IDR in steps of 1; 10000.50 IDR is not a multiple of 1"
    with pytest.raises(UnsupportedAmount) as refused:
        to_minor("stripe", money.parse("5.125"), "KWD", exponent=3, multiple_of=10)
    assert refused.value.details["step"] == "0.01"


def test_currencies() -> None:
    assert require_currency("gw", "inr", frozenset({"INR"})) == "INR"
    assert require_currency("gw", "usd", None) == "USD"
    for unit, supported in [("USD", frozenset({"INR"})), ("CREDITS", None), ("U1D", None)]:
        with pytest.raises(UnsupportedCurrency):
            require_currency("gw", unit, supported)
