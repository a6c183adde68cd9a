"""CSV cells from API objects: one column per field (nested objects flattened as parent.child, lists and free-form
maps as JSON text), amounts written as numbers, and text that a spreadsheet would run as a formula escaped."""

from __future__ import annotations

import csv
import io
import json
import re
import types
import typing
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

# A leading character a spreadsheet reads as the start of a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_DECIMAL = re.compile(r"-?\d+(\.\d+)?")
# Fields the API sends as decimal strings: written as numbers so negative amounts stay negative numbers.
AMOUNT_FIELDS = frozenset({
    "amount", "subtotal", "tax", "total", "amount_due", "quantity", "cost", "refunded", "credits", "bonus_credits",
    "amount_refunded", "disputed_debt", "posted", "held", "available", "credit_limit", "unit_price",
})


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field typed `Model` or `Model | None`, else None."""
    candidates = typing.get_args(annotation) if isinstance(annotation, types.UnionType) or (
        typing.get_origin(annotation) is typing.Union) else (annotation,)
    for candidate in candidates:
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def columns_of(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The CSV header of `model`: every field but the constant `object`, nested models flattened."""
    columns = []
    for name, info in model.model_fields.items():
        if name == "object" and not prefix:
            continue
        column = info.serialization_alias or info.alias or name
        nested = _nested_model(info.annotation)
        columns += columns_of(nested, f"{prefix}{column}.") if nested else [f"{prefix}{column}"]
    return columns


def cell(column: str, value: Any) -> Any:
    """One cell: numbers as numbers, JSON for lists and maps, escaped text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, separators=(",", ":"), sort_keys=True)
    elif column.rsplit(".", 1)[-1] in AMOUNT_FIELDS and _DECIMAL.fullmatch(value):
        return Decimal(value)
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class CsvWriter:
    """Renders header and rows of one model's objects as CSV text, a chunk at a time (for streaming)."""

    def __init__(self, model: type[BaseModel]) -> None:
        self.columns = columns_of(model)
        self._nested = {column.rsplit(".", 1)[0] + "." for column in self.columns if "." in column}
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\r\n")

    def _take(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def header(self) -> str:
        self._writer.writerow(self.columns)
        return self._take()

    def _flat(self, document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
        flat: dict[str, Any] = {}
        for key, value in document.items():
            if f"{prefix}{key}." in self._nested:
                flat.update(self._flat(value or {}, f"{prefix}{key}."))
            else:
                flat[f"{prefix}{key}"] = value
        return flat

    def rows(self, items: Iterable[BaseModel]) -> str:
        for item in items:
            flat = self._flat(item.model_dump(mode="json", by_alias=True))
            self._writer.writerow([cell(column, flat.get(column)) for column in self.columns])
        return self._take()
