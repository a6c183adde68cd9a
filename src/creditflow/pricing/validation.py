"""parse_price_properties: the API's JSON `properties` of a price, validated into a PriceSpec.

Amounts and quantities arrive as decimal strings, ints or Decimals (JSON numbers are read as Decimal);
inexact binary numbers are refused. Every error is an InvalidRequest naming the field, e.g. "properties.ranges[2].to".
Unknown keys are refused too, so a misspelt property can never silently price at zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from creditflow import money
from creditflow.errors import AmountTooLarge, InvalidRequest
from creditflow.pricing.specs import (
    MODELS,
    GraduatedSpec,
    PackageSpec,
    PercentageSpec,
    PriceSpec,
    Range,
    StandardSpec,
    VolumeSpec,
)

_MISSING = object()
_RANGE_KEYS = ("from", "to", "per_unit", "flat")


def parse_price_properties(model: str, properties: Any) -> PriceSpec:
    """Validate a price's model and properties and return its spec (all numbers in micro-units)."""
    if model not in MODELS:
        raise InvalidRequest(f"model must be one of {', '.join(MODELS)}", param="model")
    if not isinstance(properties, Mapping):
        raise InvalidRequest("properties must be an object", param="properties")
    if model == "standard":
        _only(properties, ("amount",), "properties")
        return StandardSpec(amount=_decimal(properties, "amount", "properties"))
    if model == "package":
        _only(properties, ("amount", "package_size", "free_units"), "properties")
        return PackageSpec(
            amount=_decimal(properties, "amount", "properties"),
            package_size=_whole(properties, "package_size", "properties", positive=True),
            free_units=_whole(properties, "free_units", "properties", default=0),
        )
    if model == "percentage":
        return _percentage(properties)
    ranges = _ranges(properties)
    return GraduatedSpec(ranges) if model == "graduated" else VolumeSpec(ranges)


def _percentage(properties: Mapping[str, Any]) -> PercentageSpec:
    _only(properties, ("rate", "fixed_amount", "min", "max"), "properties")
    spec = PercentageSpec(
        rate=_decimal(properties, "rate", "properties"),
        fixed_amount=_decimal(properties, "fixed_amount", "properties", default=0),
        min=_decimal(properties, "min", "properties", default=None),
        max=_decimal(properties, "max", "properties", default=None),
    )
    if spec.min is not None and spec.max is not None and spec.min > spec.max:
        raise InvalidRequest("properties.max must not be less than properties.min", param="properties.max")
    return spec


def _ranges(properties: Mapping[str, Any]) -> tuple[Range, ...]:
    _only(properties, ("ranges",), "properties")
    raw = properties.get("ranges")
    if raw is None:
        raise InvalidRequest("properties.ranges is required", param="properties.ranges")
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, (list, tuple)):
        raise InvalidRequest("properties.ranges must be a list of ranges", param="properties.ranges")
    if not raw:
        raise InvalidRequest("properties.ranges must contain at least one range", param="properties.ranges")
    ranges: list[Range] = []
    last = len(raw) - 1
    for index, item in enumerate(raw):
        where = f"properties.ranges[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidRequest(f"{where} must be an object with from, to, per_unit and flat", param=where)
        _only(item, _RANGE_KEYS, where)
        start = _decimal(item, "from", where)
        expected = 0 if index == 0 else ranges[-1].end
        if start != expected:
            text = money.format(expected, "UNITS")
            message = (
                f"{where}.from must be 0: ranges start at zero"
                if index == 0
                else f"{where}.from must equal the previous range's to ({text}): ranges are contiguous"
            )
            raise InvalidRequest(message, param=f"{where}.from")
        end = _decimal(item, "to", where, default=None)
        if index == last and end is not None:
            raise InvalidRequest(f"{where}.to must be null: the last range is open-ended", param=f"{where}.to")
        if index < last and end is None:
            raise InvalidRequest(f"{where}.to is required: only the last range is open-ended", param=f"{where}.to")
        if end is not None and end <= start:
            raise InvalidRequest(f"{where}.to must be greater than its from", param=f"{where}.to")
        per_unit = _decimal(item, "per_unit", where)
        flat = _decimal(item, "flat", where, default=0)
        ranges.append(Range(start=start, end=end, per_unit=per_unit, flat=flat))
    return tuple(ranges)


def _only(obj: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in obj:
        if key not in allowed:
            raise InvalidRequest(
                f"{where}.{key} is not a known property; expected {', '.join(allowed)}", param=f"{where}.{key}"
            )


def parse_quantity(value: Any, param: str) -> int:
    """A non-negative exact decimal (a price's figure or an event's value) as micro-units; past the largest
    amount it is AmountTooLarge, like every other amount."""
    try:
        micros = money.parse(value)
    except money.AmountTooLarge as exc:
        raise AmountTooLarge(f"{param}: {exc}", param=param) from None
    except money.MoneyError as exc:
        raise InvalidRequest(f"{param}: {exc}", param=param) from None
    if micros < 0:
        raise InvalidRequest(f"{param} must not be negative", param=param)
    return micros


def _decimal(obj: Mapping[str, Any], key: str, where: str, default: Any = _MISSING) -> Any:
    """A non-negative exact decimal as micro-units; `default` when absent or null (required without one)."""
    param = f"{where}.{key}"
    value = obj.get(key)
    if value is None:
        if default is _MISSING:
            raise InvalidRequest(f"{param} is required", param=param)
        return default
    return parse_quantity(value, param)


def _whole(obj: Mapping[str, Any], key: str, where: str, *, positive: bool = False, default: Any = _MISSING) -> int:
    """A whole number of units (as micro-units), >= 0, or > 0 when `positive`."""
    param = f"{where}.{key}"
    micros = _decimal(obj, key, where, default=default)
    if micros % money.MICROS:
        raise InvalidRequest(f"{param} must be a whole number of units", param=param)
    if positive and micros == 0:
        raise InvalidRequest(f"{param} must be greater than zero", param=param)
    return micros
