"""Lago's numbers and names to creditflow's and back: cents, credits at a rate, aggregation types, charge models.

Money leaves as cents rounded half-up once per fee (money.round_to_minor); totals are sums of those fees.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from creditflow import money
from creditflow.invoices.totals import from_minor
from creditflow.lago.routing import LagoError

AGGREGATIONS = {
    "count_agg": "count", "sum_agg": "sum", "max_agg": "max", "unique_count_agg": "unique_count",
    "latest_agg": "latest",
}
INTERVALS = {"weekly": "week", "monthly": "month", "yearly": "year"}
CHARGE_MODELS = ("standard", "graduated", "volume", "package", "percentage")


def invalid(field: str, code: str = "value_is_invalid", message: str | None = None) -> LagoError:
    return LagoError(422, "validation_errors", message or f"{field}: {code}", {field: [code]})


def cents(micros: int, currency: str) -> int:
    """One fee in the currency's minor units, rounded half-up."""
    return from_micros_minor(money.round_to_minor(micros, currency), currency)


def from_micros_minor(micros: int, currency: str) -> int:
    return micros // from_minor(1, currency)


def from_cents(amount_cents: int, currency: str) -> int:
    return from_minor(amount_cents, currency)


def amount(value: Any, field: str) -> int:
    """An exact decimal (Lago sends strings such as "10.0", or numbers) as micro-units."""
    try:
        return money.parse(value if not isinstance(value, float) else Decimal(str(value)))
    except money.MoneyError as error:
        raise invalid(field, message=f"{field}: {error}") from None


def credits_to_money(credits: int, rate: int, field: str) -> int:
    """Micro-credits at `rate` micro-units of money per credit; refused unless exact."""
    whole, rest = divmod(credits * rate, money.MICROS)
    if rest:
        raise invalid(field, message=f"{field} at this rate_amount is not an exact amount of money")
    return whole


def money_to_credits(micros: int, rate: int) -> str:
    """Micro-units of money as credits at `rate` (to 6 decimals, rounded down: never more credits than money)."""
    return decimal_text(micros * money.MICROS // rate)


def decimal_text(micros: int) -> str:
    """Micro-units as Lago writes credits and rates: "10.0", "0.5"."""
    text = money.format(micros, "CREDITS")
    return text if "." in text else f"{text}.0"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def event_time(value: Any) -> datetime | None:
    """Lago's event timestamp: epoch seconds (number or numeric string), or null for now."""
    if value is None:
        return None
    try:
        seconds = Decimal(str(value))
        return datetime.fromtimestamp(float(seconds), UTC)
    except (ArithmeticError, ValueError, OverflowError):
        raise invalid("timestamp") from None


def charge_to_price(model: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A Lago charge's properties as a creditflow price's; the engine validates them."""
    if model not in CHARGE_MODELS:
        raise invalid("charge_model", message=f"charge_model must be one of {', '.join(CHARGE_MODELS)}")
    if model in ("standard",):
        return {"amount": properties.get("amount")}
    if model == "package":
        return {key: properties.get(key) for key in ("amount", "package_size", "free_units")
                if properties.get(key) is not None}
    if model == "percentage":
        for unsupported in ("free_units_per_events", "free_units_per_total_aggregation"):
            if properties.get(unsupported) not in (None, 0, "0"):
                raise invalid(f"properties.{unsupported}", "not_supported")
        mapped = {"rate": properties.get("rate"), "fixed_amount": properties.get("fixed_amount"),
                  "min": properties.get("per_transaction_min_amount"),
                  "max": properties.get("per_transaction_max_amount")}
        return {key: value for key, value in mapped.items() if value is not None}
    key = "graduated_ranges" if model == "graduated" else "volume_ranges"
    return {"ranges": _ranges(properties.get(key) or [], key)}


def _ranges(ranges: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Lago's ranges are inclusive whole units (0-10, 11-20, 21-); creditflow's are contiguous (0-10, 10-20)."""
    converted: list[dict[str, Any]] = []
    for index, item in enumerate(ranges):
        to_value = item.get("to_value")
        to_text = None
        if to_value is not None:
            to_text = money.format(amount(to_value, f"properties.{key}[{index}].to_value"), "UNITS")
        converted.append({
            "from": converted[-1]["to"] if converted else "0",
            "to": to_text,
            "per_unit": item.get("per_unit_amount", "0"),
            "flat": item.get("flat_amount") or "0",
        })
    return converted


def price_to_charge(model: str, properties: dict[str, Any]) -> dict[str, Any]:
    """A creditflow price's properties shown as a Lago charge's."""
    if model == "percentage":
        return {"rate": properties.get("rate"), "fixed_amount": properties.get("fixed_amount"),
                "per_transaction_min_amount": properties.get("min"),
                "per_transaction_max_amount": properties.get("max")}
    if model in ("graduated", "volume"):
        ranges = []
        for item in properties.get("ranges", []):
            start = money.parse(item["from"])
            ranges.append({
                "from_value": 0 if not ranges else start // money.MICROS + 1,
                "to_value": None if item.get("to") is None else money.parse(item["to"]) // money.MICROS,
                "per_unit_amount": str(item["per_unit"]), "flat_amount": str(item.get("flat", "0")),
            })
        return {f"{model}_ranges": ranges}
    return dict(properties)
