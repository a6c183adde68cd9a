"""The limits every request's input meets before an endpoint sees it, in one place.

A JSON body (every route and the fast path parse it with json_body.loads) is refused with a 422 when
it nests deeper than MAX_DEPTH, holds a NUL character, a string longer than MAX_STRING_LENGTH, a key
longer than MAX_KEY_LENGTH or an object with more than MAX_OBJECT_KEYS keys. Path ids and query values
(see url_values.py) meet the same NUL rule and MAX_URL_VALUE_LENGTH. PostgreSQL text cannot hold NUL
while SQLite can, so refusing it here keeps the engines answering alike.
"""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 32
MAX_STRING_LENGTH = 4096
MAX_KEY_LENGTH = 255
MAX_OBJECT_KEYS = 1000
MAX_URL_VALUE_LENGTH = 512
# Error messages quote at most this much of a value that was sent.
QUOTE_PREFIX = 60


class UnsafeInput(ValueError):
    """Input that breaks a limit above; `param` is where (a dotted JSON path, a query or path name)."""

    def __init__(self, message: str, param: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def quote(value: str) -> str:
    """A value that was sent, shortened for an error message."""
    return value if len(value) <= QUOTE_PREFIX else value[:QUOTE_PREFIX] + "…"


def check_text(value: str, param: str | None, *, limit: int = MAX_STRING_LENGTH) -> None:
    if "\x00" in value:
        raise UnsafeInput("must not contain the NUL character (\\u0000)", param)
    if len(value) > limit:
        raise UnsafeInput(f"must be at most {limit} characters", param)


def check_document(document: Any) -> None:
    """Walk a parsed JSON document (without recursion, so any depth is safe to inspect)."""
    stack: list[tuple[Any, int, str]] = [(document, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if isinstance(value, str):
            check_text(value, path or None)
        elif isinstance(value, dict | list):
            if depth >= MAX_DEPTH:
                raise UnsafeInput(f"is nested more than {MAX_DEPTH} levels deep", path or None)
            if isinstance(value, list):
                stack.extend((item, depth + 1, f"{path}.{i}" if path else str(i)) for i, item in enumerate(value))
                continue
            if len(value) > MAX_OBJECT_KEYS:
                raise UnsafeInput(f"has more than {MAX_OBJECT_KEYS} keys", path or None)
            for key, item in value.items():
                child = f"{path}.{quote(key)}" if path else quote(key)
                check_text(key, child, limit=MAX_KEY_LENGTH)
                stack.append((item, depth + 1, child))
