"""invoices/totals.py: exact minor units, taxes exclusive and inclusive, totals that always add up."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from creditflow import money
from creditflow.errors import AmountNotInMinorUnits, InvalidRequest
from creditflow.invoices.models import Line, TaxInput
from creditflow.invoices.totals import compute_taxes, format_minor, rate_text, to_minor, totals_of
from tests.invoices.support import tax


def _lines(*amounts: int) -> list[Line]:
    return [Line(description=f"line {n}", amount=amount) for n, amount in enumerate(amounts)]


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [("12.50", "USD", 1250), ("1500", "JPY", 1500), ("111000.00", "IDR", 11100000), ("1.250", "KWD", 1250),
     ("0", "EUR", 0), ("-3.10", "USD", -310), ("7", "CREDITS", 7)],
)
def test_micro_units_convert_exactly_to_the_currencys_minor_units(amount, currency, minor):
    assert to_minor(money.parse(amount), currency, param="amount") == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [("0.001", "USD"), ("1.5", "JPY"), ("100.005", "IDR"), ("0.0001", "KWD"), ("0.5", "CREDITS")],
)
def test_an_amount_finer_than_the_minor_unit_is_refused_not_rounded(amount, currency):
    with pytest.raises(AmountNotInMinorUnits) as raised:
        to_minor(money.parse(amount), currency, param="lines[0].amount")
    assert raised.value.param == "lines[0].amount"
    assert raised.value.code == "amount_not_in_minor_units"


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [(1250, "USD", "12.50"), (1500, "JPY", "1500"), (1250, "KWD", "1.250"), (0, "USD", "0.00"), (5, "IDR", "0.05")],
)
def test_minor_units_format_at_the_display_scale(minor, currency, text):
    assert format_minor(minor, currency) == text


def test_exclusive_tax_is_added_on_top():
    lines = _lines(1000, 500)
    (vat,) = compute_taxes(lines, [tax("VAT", "20")], "USD")
    assert vat.amount == 300
    totals = totals_of(lines, [vat])
    assert (totals.subtotal, totals.tax, totals.total) == (1500, 300, 1800)


def test_exclusive_tax_rounds_half_up_once():
    # 11% of 0.05 USD is 0.55 cents: half-up gives 1 cent; 11% of 0.04 is 0.44 cents: 0.
    assert compute_taxes(_lines(5), [tax("PPN", "11")], "USD")[0].amount == 1
    assert compute_taxes(_lines(4), [tax("PPN", "11")], "USD")[0].amount == 0


def test_inclusive_tax_is_the_part_already_in_the_lines():
    lines = _lines(11_100_000)  # 111,000.00 IDR including PPN 11%
    (ppn,) = compute_taxes(lines, [tax("PPN", "11", inclusive=True)], "IDR")
    totals = totals_of(lines, [ppn])
    assert ppn.amount == 1_100_000
    assert (totals.subtotal, totals.tax, totals.total) == (10_000_000, 1_100_000, 11_100_000)


def test_several_inclusive_taxes_share_the_gross_by_their_rates():
    lines = _lines(11_800)  # 118.00 INR including CGST 9% and SGST 9%
    taxes = compute_taxes(lines, [tax("CGST", "9", inclusive=True), tax("SGST", "9", inclusive=True)], "INR")
    assert [t.amount for t in taxes] == [900, 900]
    assert totals_of(lines, taxes).subtotal == 10_000


def test_zero_decimal_currency_taxes_in_whole_units():
    lines = _lines(1100)  # 1,100 JPY including consumption tax 10%
    (jct,) = compute_taxes(lines, [tax("JCT", "10", inclusive=True)], "JPY")
    assert (jct.amount, totals_of(lines, [jct]).subtotal) == (100, 1000)
    (exclusive,) = compute_taxes(_lines(999), [tax("JCT", "10")], "JPY")
    assert exclusive.amount == 100  # 99.9 yen rounds to 100


def test_a_tax_amount_already_charged_is_kept_as_given():
    (gst,) = compute_taxes(_lines(10_000), [tax("GST", "18", amount="18.01")], "INR")
    assert gst.amount == 1801


def test_a_given_tax_amount_must_be_whole_minor_units():
    with pytest.raises(AmountNotInMinorUnits) as raised:
        compute_taxes(_lines(10_000), [tax("GST", "18", amount="18.001")], "INR")
    assert raised.value.param == "taxes[0].amount"


def test_inclusive_and_exclusive_taxes_do_not_mix_on_one_invoice():
    with pytest.raises(InvalidRequest, match="either all inclusive or all exclusive"):
        compute_taxes(_lines(100), [tax("A", "5"), tax("B", "5", inclusive=True)], "USD")


def test_inclusive_taxes_larger_than_the_lines_are_refused():
    with pytest.raises(InvalidRequest, match="exceed"):
        compute_taxes(_lines(100), [tax("A", "5", inclusive=True, amount="1.01")], "USD")


@pytest.mark.parametrize(("rate", "param"), [("-1", "taxes[0].rate_percent"), ("100.5", "taxes[0].rate_percent"),
                                             ("7.12345", "taxes[0].rate_percent"), ("NaN", "taxes[0].rate_percent")])
def test_rates_outside_0_to_100_or_too_precise_are_refused(rate, param):
    with pytest.raises(InvalidRequest) as raised:
        compute_taxes(_lines(100), [TaxInput(name="X", rate_percent=Decimal(rate))], "USD")
    assert raised.value.param == param


def test_a_tax_needs_a_name():
    with pytest.raises(InvalidRequest) as raised:
        compute_taxes(_lines(100), [tax("  ", "5")], "USD")
    assert raised.value.param == "taxes[0].name"


def test_lines_adding_up_below_zero_are_refused():
    with pytest.raises(InvalidRequest):
        compute_taxes(_lines(100, -200), [tax("VAT", "20")], "USD")


@pytest.mark.parametrize(("rate", "text"), [("11", "11"), ("11.00", "11"), ("7.50", "7.5"), ("100", "100"), ("0", "0")])
def test_rates_are_shown_without_noise(rate, text):
    assert rate_text(Decimal(rate)) == text


_rates = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@given(
    amounts=st.lists(st.integers(min_value=0, max_value=10**12), min_size=1, max_size=8),
    rates=st.lists(_rates, min_size=0, max_size=3),
    inclusive=st.booleans(),
)
def test_lines_and_taxes_always_add_up_to_the_total(amounts, rates, inclusive):
    lines = _lines(*amounts)
    taxes = compute_taxes(lines, [TaxInput(name="T", rate_percent=r, inclusive=inclusive) for r in rates], "USD")
    totals = totals_of(lines, taxes)
    assert totals.subtotal + totals.tax == totals.total
    assert totals.tax == sum(t.amount for t in taxes)
    assert totals.subtotal >= 0
    if inclusive:
        assert totals.total == sum(amounts)
    else:
        assert totals.subtotal == sum(amounts)
