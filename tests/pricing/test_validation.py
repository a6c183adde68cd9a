"""parse_price_properties: JSON properties validated into specs, errors naming the field."""

from __future__ import annotations

from decimal import Decimal

import pytest

from creditflow.errors import InvalidRequest
from creditflow.money import MICROS
from creditflow.pricing.specs import (
    GraduatedSpec,
    PackageSpec,
    PercentageSpec,
    Range,
    StandardSpec,
    VolumeSpec,
)
from creditflow.pricing.validation import parse_price_properties


def ranges(*bounds, per_unit="0.01", flat="0"):
    """Ranges over consecutive bounds, the last one open: ranges(0, 100, 1000) -> 0-100, 100-1000, 1000+."""
    result = []
    for index, start in enumerate(bounds):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        result.append({"from": start, "to": end, "per_unit": per_unit, "flat": flat})
    return result


def rejects(model, properties, param, fragment=""):
    with pytest.raises(InvalidRequest) as info:
        parse_price_properties(model, properties)
    assert info.value.param == param, info.value.message
    assert fragment in info.value.message
    return info.value


def test_standard_spec_in_micro_units():
    assert parse_price_properties("standard", {"amount": "0.000002"}) == StandardSpec(amount=2)


def test_package_spec_in_micro_units_with_free_units_defaulting_to_zero():
    spec = parse_price_properties("package", {"amount": "5", "package_size": 1000})
    assert spec == PackageSpec(amount=5 * MICROS, package_size=1000 * MICROS, free_units=0)


def test_graduated_spec_with_flat_defaulting_to_zero():
    spec = parse_price_properties(
        "graduated",
        {"ranges": [{"from": "0", "to": "2.5", "per_unit": "1"}, {"from": "2.5", "to": None, "per_unit": "0.5"}]},
    )
    assert spec == GraduatedSpec(
        (Range(0, 2_500_000, MICROS, 0), Range(2_500_000, None, 500_000, 0)),
    )


def test_volume_spec_accepts_json_decimals_and_a_missing_last_to():
    spec = parse_price_properties(
        "volume",
        {"ranges": [{"from": 0, "to": Decimal("10"), "per_unit": Decimal("0.1")}, {"from": 10, "per_unit": "0"}]},
    )
    assert spec == VolumeSpec((Range(0, 10 * MICROS, 100_000, 0), Range(10 * MICROS, None, 0, 0)))


def test_percentage_spec_with_optional_bounds():
    spec = parse_price_properties("percentage", {"rate": "2.5", "max": "10"})
    assert spec == PercentageSpec(rate=2_500_000, fixed_amount=0, min=None, max=10 * MICROS)


def test_specs_are_frozen():
    spec = parse_price_properties("standard", {"amount": "1"})
    with pytest.raises(AttributeError):
        spec.amount = 2


def test_unknown_model_is_rejected():
    rejects("tiered", {"amount": "1"}, "model", "standard, package, graduated, volume, percentage")


def test_properties_must_be_an_object():
    rejects("standard", ["1"], "properties")


def test_missing_amount_is_rejected():
    rejects("standard", {}, "properties.amount", "required")


def test_float_amount_is_rejected():
    rejects("standard", {"amount": 0.01}, "properties.amount", "decimal strings")


def test_non_numeric_amount_is_rejected():
    rejects("standard", {"amount": "ten"}, "properties.amount", "not a decimal amount")


def test_amount_with_more_than_six_decimals_is_rejected():
    rejects("standard", {"amount": "0.0000001"}, "properties.amount", "6 decimal places")


def test_negative_amount_is_rejected():
    rejects("standard", {"amount": "-1"}, "properties.amount", "negative")


def test_unknown_property_is_rejected():
    rejects("standard", {"amount": "1", "amont": "2"}, "properties.amont", "not a known property")


def test_package_size_must_be_positive():
    rejects("package", {"amount": "1", "package_size": "0"}, "properties.package_size", "greater than zero")


def test_package_size_must_be_whole_units():
    rejects("package", {"amount": "1", "package_size": "2.5"}, "properties.package_size", "whole number")


def test_package_size_is_required():
    rejects("package", {"amount": "1"}, "properties.package_size", "required")


def test_package_free_units_must_not_be_negative():
    rejects("package", {"amount": "1", "package_size": 10, "free_units": -1}, "properties.free_units", "negative")


def test_package_free_units_must_be_whole_units():
    rejects("package", {"amount": "1", "package_size": 10, "free_units": "0.5"}, "properties.free_units", "whole")


def test_ranges_are_required():
    rejects("graduated", {}, "properties.ranges", "required")


def test_ranges_must_be_a_list():
    rejects("volume", {"ranges": {"from": 0}}, "properties.ranges", "list")


def test_ranges_must_not_be_empty():
    rejects("graduated", {"ranges": []}, "properties.ranges", "at least one")


def test_a_range_must_be_an_object():
    rejects("graduated", {"ranges": ["0-100"]}, "properties.ranges[0]")


def test_ranges_start_at_zero():
    rejects("graduated", {"ranges": ranges(1, 100)}, "properties.ranges[0].from", "must be 0")


def test_ranges_are_contiguous():
    bad = ranges(0, 100, 1000)
    bad[2]["from"] = "1001"
    rejects("graduated", {"ranges": bad}, "properties.ranges[2].from", "previous range's to (1000)")


def test_ranges_must_not_overlap():
    bad = ranges(0, 100, 1000)
    bad[1]["to"] = "2000"
    rejects("volume", {"ranges": bad}, "properties.ranges[2].from", "previous range's to (2000)")


def test_a_range_must_end_after_it_starts():
    rejects("graduated", {"ranges": ranges(0, 0)}, "properties.ranges[0].to", "greater than its from")


def test_the_last_range_must_be_open():
    bad = ranges(0, 100)
    bad[1]["to"] = "1000"
    rejects("graduated", {"ranges": bad}, "properties.ranges[1].to", "must be null")


def test_only_the_last_range_may_be_open():
    bad = ranges(0, 100, 1000)
    bad[1]["to"] = None
    rejects("graduated", {"ranges": bad}, "properties.ranges[1].to", "required")


def test_range_per_unit_is_required():
    bad = ranges(0, 100)
    del bad[1]["per_unit"]
    rejects("volume", {"ranges": bad}, "properties.ranges[1].per_unit", "required")


def test_range_flat_must_not_be_negative():
    rejects("graduated", {"ranges": ranges(0, 100, flat="-1")}, "properties.ranges[0].flat", "negative")


def test_range_bound_must_be_exact():
    bad = ranges(0, 100, 1000)
    bad[2]["from"] = 1000.0
    bad[1]["to"] = 1000.0
    rejects("graduated", {"ranges": bad}, "properties.ranges[1].to", "decimal strings")


def test_range_unknown_key_is_rejected():
    bad = ranges(0, 100)
    bad[0]["per_unit_amount"] = "1"
    rejects("graduated", {"ranges": bad}, "properties.ranges[0].per_unit_amount", "not a known property")


def test_percentage_rate_is_required():
    rejects("percentage", {"fixed_amount": "1"}, "properties.rate", "required")


def test_percentage_max_must_not_be_below_min():
    rejects("percentage", {"rate": "1", "min": "2", "max": "1"}, "properties.max", "less than")


def test_percentage_rate_must_not_be_negative():
    rejects("percentage", {"rate": "-0.5"}, "properties.rate", "negative")
