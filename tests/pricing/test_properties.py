"""Properties over generated prices and event sequences (hypothesis).

Charging each event price(after) - price(before) must telescope to the price of the period's total exactly,
with or without free units per period; standard, package and graduated prices never fall as usage grows.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from creditflow.money import MICROS
from creditflow.pricing.models import (
    GraduatedSpec,
    PackageSpec,
    Range,
    StandardSpec,
    VolumeSpec,
    incremental_cost,
    price_of,
    price_with_free_units,
)

# Quantities up to 10 million units and amounts up to 100 per unit keep every price within int64.
quantities = st.integers(min_value=0, max_value=10_000_000 * MICROS)
small_quantities = st.one_of(st.integers(0, 10 * MICROS), st.integers(0, 100_000 * MICROS))
per_unit_amounts = st.one_of(st.integers(0, 100), st.integers(0, 100 * MICROS))
flat_amounts = st.integers(0, 1_000 * MICROS)


@st.composite
def tiered_ranges(draw):
    cuts = sorted(draw(st.sets(st.integers(1, 1_000_000 * MICROS), max_size=5)))
    bounds = [0, *cuts]
    return tuple(
        Range(
            start=start,
            end=bounds[index + 1] if index + 1 < len(bounds) else None,
            per_unit=draw(per_unit_amounts),
            flat=draw(flat_amounts),
        )
        for index, start in enumerate(bounds)
    )


standard_specs = st.builds(StandardSpec, amount=per_unit_amounts)
package_specs = st.builds(
    PackageSpec,
    amount=st.integers(0, 1_000 * MICROS),
    package_size=st.integers(1, 100_000).map(lambda n: n * MICROS),
    free_units=st.integers(0, 1_000).map(lambda n: n * MICROS),
)
graduated_specs = tiered_ranges().map(GraduatedSpec)
volume_specs = tiered_ranges().map(VolumeSpec)
aggregate_specs = st.one_of(standard_specs, package_specs, graduated_specs, volume_specs)
monotonic_specs = st.one_of(standard_specs, package_specs, graduated_specs)
events = st.lists(small_quantities, max_size=40)


@given(aggregate_specs, events)
def test_incremental_costs_add_up_to_the_price_of_the_total(spec, quantities):
    total, charged = 0, 0
    for quantity in quantities:
        charged += incremental_cost(spec, total, total + quantity)
        total += quantity
    assert charged == price_of(spec, total)


@given(aggregate_specs, events, small_quantities)
def test_incremental_costs_with_free_units_add_up_to_the_price_after_free_units(spec, quantities, free_units):
    total, charged = 0, 0
    for quantity in quantities:
        charged += incremental_cost(spec, total, total + quantity, free_units)
        total += quantity
    assert charged == price_with_free_units(spec, total, free_units)


@given(monotonic_specs, quantities, quantities)
def test_standard_package_and_graduated_prices_never_fall_as_usage_grows(spec, a, b):
    low, high = min(a, b), max(a, b)
    assert 0 <= price_of(spec, low) <= price_of(spec, high)
    assert incremental_cost(spec, low, high) >= 0


@given(aggregate_specs, quantities)
def test_every_price_is_a_non_negative_int(spec, units):
    price = price_of(spec, units)
    assert type(price) is int
    assert price >= 0


@given(per_unit_amounts, flat_amounts, quantities)
def test_a_single_open_range_prices_like_standard_plus_its_flat_fee(per_unit, flat, units):
    tier = (Range(0, None, per_unit, flat),)
    expected = price_of(StandardSpec(per_unit), units) + (flat if units > 0 else 0)
    assert price_of(GraduatedSpec(tier), units) == expected
    assert price_of(VolumeSpec(tier), units) == expected


@given(tiered_ranges(), quantities)
def test_graduated_equals_volume_when_every_range_has_the_same_per_unit_and_no_flat(tiers, units):
    same = tuple(Range(t.start, t.end, tiers[0].per_unit, 0) for t in tiers)
    assert price_of(GraduatedSpec(same), units) == price_of(VolumeSpec(same), units)
