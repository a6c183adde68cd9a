"""Requests whose JSON numbers are read from their decimal text (never through a binary float).

Every request body is a JSON object that meets the input limits (input_limits.py). A body that does
not is not refused while FastAPI parses it, which happens before the dependencies that authenticate:
the route receives INVALID_BODY, which no body model accepts, so the key is checked first, and the
validation error handler then answers with the body's own problem (see body_problem).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request

from creditflow.http.input_limits import UnsafeInput, check_document

_PROBLEM = "body_problem"


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a valid JSON value here", name, 0)


def loads(body: bytes) -> Any:
    """Parse a request body: json.JSONDecodeError (a 400) if it is not JSON, UnsafeInput (a 422) past a limit."""
    try:
        document = json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError:
        raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the document is nested too deeply", "", 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), "", 0) from None
    check_document(document)
    return document


def loads_object(body: bytes) -> dict[str, Any]:
    """A request body that must be a JSON object: a bare number, string or list is never taken for `{}`."""
    document = loads(body)
    if not isinstance(document, dict):
        raise UnsafeInput(f"the request body must be a JSON object, not {_json_type(document)}", None)
    return document


def _json_type(document: Any) -> str:
    if isinstance(document, list):
        return "an array"
    if isinstance(document, str):
        return "a string"
    if isinstance(document, bool):
        return "a boolean"
    return "null" if document is None else "a number"


class _InvalidBody:
    """Stands for a body that was refused; fails every body model's validation."""

    def __repr__(self) -> str:
        return "<invalid body>"


INVALID_BODY = _InvalidBody()


class DecimalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = loads_object(await self.body())
            except ValueError as problem:
                setattr(self.state, _PROBLEM, problem)
                self._json = INVALID_BODY
        return self._json


def body_problem(request: Request) -> ValueError | None:
    """Why this request's body was refused (json.JSONDecodeError or UnsafeInput), if it was."""
    return getattr(request.state, _PROBLEM, None)
