"""Hand-computed bills for each price model, charged event by event and in one go."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditflow.errors import InvalidRequest
from creditflow.money import MICROS, parse
from creditflow.pricing.models import (
    incremental_cost,
    parse_price_properties,
    percentage_cost,
    price_of,
    price_with_free_units,
)

GRADUATED = parse_price_properties(
    "graduated",
    {
        "ranges": [
            {"from": "0", "to": "100", "per_unit": "0.01", "flat": "0"},
            {"from": "100", "to": "1000", "per_unit": "0.008", "flat": "1.00"},
            {"from": "1000", "to": None, "per_unit": "0.005", "flat": "0"},
        ]
    },
)
VOLUME = parse_price_properties(
    "volume",
    {
        "ranges": [
            {"from": "0", "to": "100", "per_unit": "0.01", "flat": "0"},
            {"from": "100", "to": "1000", "per_unit": "0.008", "flat": "1.00"},
            {"from": "1000", "to": None, "per_unit": "0.005", "flat": "0"},
        ]
    },
)


def units(text: str) -> int:
    return parse(text)


def charge_events(spec, quantities, free_units=0):
    total, charges = 0, []
    for quantity in quantities:
        charges.append(incremental_cost(spec, total, total + quantity, free_units))
        total += quantity
    return total, charges


# standard


def test_standard_prices_each_unit_at_the_amount():
    spec = parse_price_properties("standard", {"amount": "0.25"})
    assert price_of(spec, units("12")) == parse("3.00")


def test_standard_prices_a_tiny_llm_token_price_exactly():
    spec = parse_price_properties("standard", {"amount": "0.000002"})
    assert spec.amount == 2
    assert price_of(spec, 1_234_567 * MICROS) == parse("2.469134")


def test_standard_prices_fractional_quantities():
    spec = parse_price_properties("standard", {"amount": "0.09"})
    assert price_of(spec, units("2.5")) == parse("0.225")


def test_standard_rounds_half_up_to_micro_units():
    spec = parse_price_properties("standard", {"amount": "0.000001"})
    assert price_of(spec, units("0.5")) == 1
    assert price_of(spec, units("0.499999")) == 0
    assert price_of(spec, units("1.5")) == 2


def test_zero_units_cost_nothing_in_every_aggregate_model():
    package = parse_price_properties("package", {"amount": "5", "package_size": "1000"})
    standard = parse_price_properties("standard", {"amount": "1"})
    for spec in (standard, package, GRADUATED, VOLUME):
        assert price_of(spec, 0) == 0


# package


def test_package_charges_every_started_package():
    spec = parse_price_properties("package", {"amount": "5.00", "package_size": "1000", "free_units": "0"})
    assert price_of(spec, units("1")) == parse("5.00")
    assert price_of(spec, units("1000")) == parse("5.00")
    assert price_of(spec, units("1000.000001")) == parse("10.00")
    assert price_of(spec, units("2500")) == parse("15.00")


def test_package_free_units_come_off_before_packages_are_counted():
    spec = parse_price_properties("package", {"amount": "5.00", "package_size": "1000", "free_units": "100"})
    assert price_of(spec, units("100")) == 0
    assert price_of(spec, units("100.5")) == parse("5.00")
    assert price_of(spec, units("1100")) == parse("5.00")
    assert price_of(spec, units("1101")) == parse("10.00")


def test_package_charges_a_package_on_the_event_that_starts_it():
    spec = parse_price_properties("package", {"amount": "5.00", "package_size": "1000", "free_units": "0"})
    total, charges = charge_events(spec, [units("600"), units("400"), units("1"), units("999"), units("1")])
    assert charges == [parse("5.00"), 0, parse("5.00"), 0, parse("5.00")]
    assert sum(charges) == price_of(spec, total) == parse("15.00")


# graduated


def test_graduated_bill_computed_by_hand():
    # 100 x 0.01 = 1.00; 900 x 0.008 = 7.20 + flat 1.00; 500 x 0.005 = 2.50 -> 11.70
    assert price_of(GRADUATED, units("1500")) == parse("11.70")


def test_graduated_within_the_first_range():
    assert price_of(GRADUATED, units("40")) == parse("0.40")
    assert price_of(GRADUATED, units("100")) == parse("1.00")


def test_graduated_flat_fee_is_charged_once_usage_enters_its_range():
    assert price_of(GRADUATED, units("100")) == parse("1.00")
    # the first unit past 100 enters the second range: 1.00 + 0.000008 + flat 1.00
    assert price_of(GRADUATED, units("100.001")) == parse("2.000008")
    assert price_of(GRADUATED, units("1000")) == parse("9.20")


def test_graduated_flat_fee_of_a_first_range_is_charged_on_the_first_unit():
    spec = parse_price_properties(
        "graduated",
        {"ranges": [{"from": 0, "to": 10, "per_unit": "0", "flat": "2.00"}, {"from": 10, "to": None, "per_unit": "1"}]},
    )
    assert price_of(spec, 0) == 0
    assert price_of(spec, 1) == parse("2.00")
    assert price_of(spec, units("10")) == parse("2.00")
    assert price_of(spec, units("11")) == parse("3.00")


def test_graduated_month_of_events_adds_up_to_the_hand_computed_bill():
    quantities = [units(q) for q in ("30", "60", "20", "0.5", "389.5", "400", "100", "250", "250")]
    assert sum(quantities) == units("1500")
    total, charges = charge_events(GRADUATED, quantities)
    assert charges[:3] == [parse("0.30"), parse("0.60"), parse("1.18")]  # 10 x 0.01 + 10 x 0.008 + 1.00
    assert sum(charges) == price_of(GRADUATED, total) == parse("11.70")


def test_graduated_rounds_once_over_all_ranges():
    # each range contributes half a micro-unit: rounded per range it would be 2, rounded once it is 1
    spec = parse_price_properties(
        "graduated",
        {
            "ranges": [
                {"from": "0", "to": "0.5", "per_unit": "0.000001"},
                {"from": "0.5", "to": None, "per_unit": "0.000001"},
            ]
        },
    )
    assert price_of(spec, units("1")) == 1


# volume


def test_volume_prices_all_units_at_the_range_the_total_falls_in():
    assert price_of(VOLUME, units("100")) == parse("1.00")
    assert price_of(VOLUME, units("500")) == parse("5.00")  # 500 x 0.008 + 1.00
    assert price_of(VOLUME, units("1000")) == parse("9.00")
    assert price_of(VOLUME, units("1500")) == parse("7.50")  # 1500 x 0.005, no flat


def test_volume_credits_back_when_a_cheaper_tier_is_reached():
    assert incremental_cost(VOLUME, units("1000"), units("1001")) == parse("5.005") - parse("9.00")
    total, charges = charge_events(VOLUME, [units("100"), units("900"), units("500")])
    assert charges == [parse("1.00"), parse("8.00"), parse("-1.50")]
    assert sum(charges) == price_of(VOLUME, total) == parse("7.50")


# free units per period


def test_free_units_per_period_are_not_charged():
    spec = parse_price_properties("standard", {"amount": "0.01"})
    assert price_with_free_units(spec, units("1000"), units("1000")) == 0
    assert price_with_free_units(spec, units("1500"), units("1000")) == parse("5.00")


def test_free_units_per_period_apply_before_graduated_ranges():
    assert price_with_free_units(GRADUATED, units("1600"), units("100")) == parse("11.70")


def test_free_units_per_period_charge_only_the_event_that_crosses_them():
    spec = parse_price_properties("standard", {"amount": "0.01"})
    total, charges = charge_events(spec, [units("600"), units("300"), units("200"), units("50")], units("1000"))
    assert charges == [0, 0, parse("1.00"), parse("0.50")]
    assert sum(charges) == price_with_free_units(spec, total, units("1000"))


def test_free_units_per_period_stack_with_a_package_free_units():
    spec = parse_price_properties("package", {"amount": "1", "package_size": "10", "free_units": "5"})
    assert price_with_free_units(spec, units("15"), units("10")) == 0
    assert price_with_free_units(spec, units("16"), units("10")) == parse("1")


# percentage


def test_percentage_charges_the_rate_of_the_value():
    spec = parse_price_properties("percentage", {"rate": "2.5"})
    assert percentage_cost(spec, parse("100.00")) == parse("2.50")
    assert percentage_cost(spec, parse("0.04")) == parse("0.001")


def test_percentage_adds_the_fixed_amount_per_event():
    spec = parse_price_properties("percentage", {"rate": "2.9", "fixed_amount": "0.30"})
    assert percentage_cost(spec, parse("10.00")) == parse("0.59")


def test_percentage_is_clamped_to_min_and_max_after_the_fixed_amount():
    spec = parse_price_properties(
        "percentage", {"rate": "2.5", "fixed_amount": "0.30", "min": "0.50", "max": "5.00"}
    )
    assert percentage_cost(spec, parse("1.00")) == parse("0.50")  # 0.025 + 0.30 = 0.325 -> min
    assert percentage_cost(spec, parse("100.00")) == parse("2.80")
    assert percentage_cost(spec, parse("1000.00")) == parse("5.00")  # 25.30 -> max


def test_percentage_min_applies_to_a_zero_value():
    spec = parse_price_properties("percentage", {"rate": "1", "min": "0.10"})
    assert percentage_cost(spec, 0) == parse("0.10")


def test_percentage_rounds_half_up_once():
    spec = parse_price_properties("percentage", {"rate": "50"})
    assert percentage_cost(spec, 1) == 1  # half a micro-unit rounds up
    spec = parse_price_properties("percentage", {"rate": "33.333333"})
    assert percentage_cost(spec, parse("1.00")) == parse("0.333333")  # 0.33333333 rounds down
    assert percentage_cost(spec, parse("3.00")) == parse("1.00")  # 0.99999999 rounds up


def test_percentage_accepts_a_rate_as_a_decimal_from_json():
    spec = parse_price_properties("percentage", {"rate": Decimal("1.75")})
    assert percentage_cost(spec, parse("200")) == parse("3.50")


# misuse


def test_negative_quantities_are_rejected():
    with pytest.raises(InvalidRequest):
        price_of(GRADUATED, -1)
    with pytest.raises(InvalidRequest):
        percentage_cost(parse_price_properties("percentage", {"rate": "1"}), -1)


def test_a_percentage_spec_is_not_an_aggregate_price():
    with pytest.raises(TypeError):
        price_of(parse_price_properties("percentage", {"rate": "1"}), 1)


def test_a_cost_beyond_the_largest_amount_is_rejected():
    spec = parse_price_properties("standard", {"amount": "1000000"})
    with pytest.raises(InvalidRequest):
        price_of(spec, units("10000000000"))
