"""Requests whose JSON numbers are read from their decimal text (never through a binary float)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from starlette.requests import Request


def _refuse_constant(name: str) -> Any:
    raise json.JSONDecodeError(f"{name} is not a valid JSON value here", name, 0)


def loads(body: bytes) -> Any:
    """Parse a request body; anything that is not a JSON document raises json.JSONDecodeError (a 400)."""
    try:
        return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except UnicodeDecodeError:
        raise json.JSONDecodeError("the body is not UTF-8 text", "", 0) from None
    except RecursionError:
        raise json.JSONDecodeError("the document is nested too deeply", "", 0) from None
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), "", 0) from None


class DecimalJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads(await self.body())
        return self._json
