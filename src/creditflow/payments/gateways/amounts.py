"""Amounts at the gateway edge: creditflow's micro-units to each gateway's minor units and back.

Conversion is exact or refused (UnsupportedAmount, a 422), never rounded: the customer must be
charged exactly what the top-up shows, so an amount the gateway cannot express (fractional rupiah
for Midtrans, 0.001 USD) is refused before any order exists, through PaymentGateway.check_amount.
"""

from __future__ import annotations

from decimal import Decimal

from creditflow import money
from creditflow.payments.gateways.errors import UnsupportedAmount, UnsupportedCurrency


def to_minor(gateway: str, micros: int, currency: str, *, exponent: int, multiple_of: int = 1) -> int:
    """Micro-units as the gateway's integer minor units (exponent decimals), or UnsupportedAmount."""
    if micros <= 0:
        raise UnsupportedAmount(gateway, f"{gateway} amounts must be greater than zero", param="amount")
    step = 10 ** (money.SCALE - exponent) * multiple_of
    if micros % step:
        # The step in the gateway's own terms ("1" for whole rupiah), not the currency's display scale.
        smallest = format(Decimal(step).scaleb(-money.SCALE).normalize(), "f")
        raise UnsupportedAmount(
            gateway,
            f"{gateway} takes {currency} in steps of {smallest}; {money.format(micros, currency)} {currency} "
            f"is not a multiple of {smallest}",
            param="amount",
            currency=currency,
            step=smallest,
        )
    return micros // step * multiple_of


def from_minor(minor: int, *, exponent: int) -> int:
    """The gateway's minor units as micro-units (always exact)."""
    return minor * 10 ** (money.SCALE - exponent)


def require_currency(gateway: str, currency: str, supported: frozenset[str] | None) -> str:
    """Upper-cased ISO code if the gateway takes it; credit units (CREDITS) and others are refused."""
    code = currency.upper()
    if len(code) != 3 or not code.isalpha() or (supported is not None and code not in supported):
        accepted = ", ".join(sorted(supported)) if supported else "ISO 4217 currencies"
        raise UnsupportedCurrency(
            gateway, f"{gateway} does not take {currency}; it takes {accepted}", param="currency", currency=currency
        )
    return code

