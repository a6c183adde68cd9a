"""Price models as pure functions: exact ints in micro-units in, micro-units of money out. No I/O, only ints.

Aggregate models (standard, package, graduated, volume) price the running total of a metric in a period:
an event costs price(total after) - price(total before), so a period's charges telescope to the price of
its total exactly, whatever the events' sizes (volume pricing can give a negative step: a credit back).
The percentage model prices one event's property value (e.g. a transaction amount) on its own.

Rounding: a quantity (scale 6) times a per-unit amount (scale 6) has 12 decimals; each price is computed
exactly at that scale and rounded once, half-up, to micro-units of money.
"""

from __future__ import annotations

from creditflow.errors import AmountTooLarge, InvalidRequest
from creditflow.money import MAX_BALANCE, MICROS
from creditflow.pricing.specs import (
    MODELS,
    AggregateSpec,
    GraduatedSpec,
    PackageSpec,
    PercentageSpec,
    PriceSpec,
    Range,
    StandardSpec,
    VolumeSpec,
)
from creditflow.pricing.tiers import graduated_scaled, volume_scaled
from creditflow.pricing.validation import parse_price_properties

__all__ = [
    "MODELS",
    "AggregateSpec",
    "GraduatedSpec",
    "PackageSpec",
    "PercentageSpec",
    "PriceSpec",
    "Range",
    "StandardSpec",
    "VolumeSpec",
    "incremental_cost",
    "parse_price_properties",
    "percentage_cost",
    "price_of",
    "price_with_free_units",
]


def price_of(spec: AggregateSpec, units: int) -> int:
    """Total money (micro-units) for an aggregate of `units` (micro-units of quantity)."""
    _check_quantity(units, "units")
    if isinstance(spec, StandardSpec):
        micros = _round_half_up(units * spec.amount, MICROS)
    elif isinstance(spec, PackageSpec):
        billable = max(units - spec.free_units, 0)
        micros = -(-billable // spec.package_size) * spec.amount
    elif isinstance(spec, GraduatedSpec):
        micros = _round_half_up(graduated_scaled(spec.ranges, units), MICROS)
    elif isinstance(spec, VolumeSpec):
        micros = _round_half_up(volume_scaled(spec.ranges, units), MICROS)
    else:
        raise TypeError(f"price_of prices aggregates; use percentage_cost for {type(spec).__name__}")
    return _check_amount(micros)


def price_with_free_units(spec: AggregateSpec, units: int, free_units: int) -> int:
    """Price of the aggregate after the period's free units (on top of a package's own free_units)."""
    _check_quantity(free_units, "free_units")
    return price_of(spec, max(units - free_units, 0))


def incremental_cost(spec: AggregateSpec, before: int, after: int, free_units: int = 0) -> int:
    """What moving the aggregate from `before` to `after` costs; negative is a credit back (volume)."""
    return price_with_free_units(spec, after, free_units) - price_with_free_units(spec, before, free_units)


def percentage_cost(spec: PercentageSpec, value: int) -> int:
    """One event's cost: value x rate / 100 (rounded once, half-up) + fixed_amount, clamped to [min, max]."""
    if not isinstance(spec, PercentageSpec):
        raise TypeError(f"percentage_cost needs a PercentageSpec, not {type(spec).__name__}")
    _check_quantity(value, "value")
    micros = _round_half_up(value * spec.rate, 100 * MICROS) + spec.fixed_amount
    if spec.min is not None:
        micros = max(micros, spec.min)
    if spec.max is not None:
        micros = min(micros, spec.max)
    return _check_amount(micros)


def _round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half-up, for numerator >= 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def _check_quantity(value: int, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} is an int of micro-units, not {type(value).__name__}")
    if value < 0:
        raise InvalidRequest(f"a quantity must not be negative ({name})", param=name)


def _check_amount(micros: int) -> int:
    if micros > MAX_BALANCE:
        raise AmountTooLarge("the price of this usage is larger than the largest balance")
    return micros
