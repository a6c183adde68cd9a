"""Price specs: one frozen dataclass per price model, every number an int of micro-units.

Quantities (units, range bounds, package sizes) are micro-units of the metered quantity; amounts are
micro-units of money; a per-unit amount is micro-units of money per one whole unit (1_000_000 micro-units
of quantity), so 0.000002 USD per token is 2. A percentage rate is micro-units of percent ("2.5" -> 2_500_000).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StandardSpec:
    amount: int

    model = "standard"


@dataclass(frozen=True, slots=True)
class PackageSpec:
    amount: int
    package_size: int
    free_units: int = 0

    model = "package"


@dataclass(frozen=True, slots=True)
class Range:
    """One tier: quantities above `start` up to and including `end` (None: no upper bound)."""

    start: int
    end: int | None
    per_unit: int
    flat: int = 0


@dataclass(frozen=True, slots=True)
class GraduatedSpec:
    ranges: tuple[Range, ...]

    model = "graduated"


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    ranges: tuple[Range, ...]

    model = "volume"


@dataclass(frozen=True, slots=True)
class PercentageSpec:
    rate: int
    fixed_amount: int = 0
    min: int | None = None
    max: int | None = None

    model = "percentage"


AggregateSpec = StandardSpec | PackageSpec | GraduatedSpec | VolumeSpec
PriceSpec = AggregateSpec | PercentageSpec
MODELS = ("standard", "package", "graduated", "volume", "percentage")
