"""Answers as attribute-readable dicts with amounts as Decimal; request bodies with Decimal as strings."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from decimal import ROUND_CEILING, Decimal
from typing import Any

# Fields creditflow answers as decimal strings ("12.50"); everything else stays as sent.
AMOUNT_FIELDS = frozenset({
    "amount", "amount_due", "amount_paid", "available", "balance", "bonus_credits", "breakage", "captured",
    "cost", "credit_limit", "credits", "debt", "discount", "held", "limit", "posted", "price", "quantity", "remaining",
    "reserved", "spent", "subtotal", "target_balance", "tax", "threshold", "total", "unit_price", "units", "used",
    "refunded", "amount_refunded",
})
_DECIMAL = re.compile(r"^-?\d+(\.\d+)?$")
SCALE = Decimal("0.000001")


class CreditflowObject(dict[str, Any]):
    """A JSON object from creditflow; `obj.field` reads `obj["field"]`."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def convert(value: Any, key: str | None = None) -> Any:
    """JSON as creditflow sent it -> objects, lists, and Decimal for the amount fields."""
    if isinstance(value, dict):
        return CreditflowObject({k: convert(v, k) for k, v in value.items()})
    if isinstance(value, list):
        return [convert(item) for item in value]
    if key in AMOUNT_FIELDS and isinstance(value, str) and _DECIMAL.match(value):
        return Decimal(value)
    return value


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def encode(body: Any) -> bytes:
    """A request body: Decimal as its exact decimal string (never through float), datetimes as ISO 8601."""
    return json.dumps(body, default=_default, separators=(",", ":")).encode()


def round_up(amount: Decimal) -> Decimal:
    """An amount at creditflow's 6 decimal places, rounded up (a fraction of a micro-unit is still charged)."""
    return amount.quantize(SCALE, rounding=ROUND_CEILING)
