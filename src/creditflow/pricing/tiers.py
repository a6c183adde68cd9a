"""Tiered totals before rounding: exact ints at scale 12 (micro-units of money x micro-units of quantity).

A range covers quantities above `start` up to and including `end`; the first starts at 0 and the last is
open. Graduated: each unit is priced at the per-unit amount of the range it falls in, and a range's flat fee
is charged once usage enters it (units > start), as Lago does. Volume: every unit is priced at the per-unit
amount of the range the total falls in (start < units <= end), plus that range's flat fee; zero units cost
nothing.
"""

from __future__ import annotations

from creditflow.money import MICROS
from creditflow.pricing.specs import Range


def graduated_scaled(ranges: tuple[Range, ...], units: int) -> int:
    total = 0
    for tier in ranges:
        if units <= tier.start:
            break
        top = units if tier.end is None else min(units, tier.end)
        total += (top - tier.start) * tier.per_unit + tier.flat * MICROS
    return total


def volume_scaled(ranges: tuple[Range, ...], units: int) -> int:
    if units <= 0:
        return 0
    for tier in ranges:
        if tier.end is None or units <= tier.end:
            return units * tier.per_unit + tier.flat * MICROS
    raise ValueError("ranges must end with an open range")  # pragma: no cover - validation guarantees it
