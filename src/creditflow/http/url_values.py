"""What every /v1 route checks in its URL, after authentication and before its own parameters.

Path ids and query values meet the input limits (no NUL, at most MAX_URL_VALUE_LENGTH characters), and
a query parameter the route does not declare is refused by name instead of being silently ignored
(`?email=x` on a route without that filter would otherwise answer everything). The query types below
take only their canonical text: `true`/`false`, and RFC 3339 dates, never a number coerced into one.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from pydantic import AwareDatetime, BeforeValidator

from creditflow.http.input_limits import MAX_URL_VALUE_LENGTH, UnsafeInput, check_text, quote


def declared_query(dependant: Dependant) -> frozenset[str]:
    """Every query parameter a route declares, its dependencies' (pagination) included."""
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= declared_query(sub)
    return frozenset(names)


def _refuse(param: str, location: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": (location, param), "msg": message, "type": "value_error"}])


async def check_url_values(request: Request) -> None:
    # Set by DecimalJSONRoute when it is built (http/unit_of_work.py).
    declared: frozenset[str] = getattr(request.scope.get("route"), "declared_query", frozenset())
    try:
        for name, value in request.path_params.items():
            check_text(str(value), name, limit=MAX_URL_VALUE_LENGTH)
        for name, value in request.query_params.multi_items():
            check_text(name, quote(name), limit=MAX_URL_VALUE_LENGTH)
            # Only /v1 is ours to make strict; the Lago API (/api/v1) ignores what Lago's own clients may send.
            if name not in declared and request.url.path.startswith("/v1/"):
                raise UnsafeInput(f"unknown query parameter '{quote(name)}'", quote(name))
            check_text(value, name, limit=MAX_URL_VALUE_LENGTH)
    except UnsafeInput as problem:
        raise _refuse(problem.param or "", "query", problem.message) from None


def _true_or_false(value: Any) -> Any:
    if isinstance(value, str) and value not in ("true", "false"):
        raise ValueError("must be true or false")
    return value


_NUMBER = re.compile(r"^[+-]?\d+(\.\d*)?$")


def _not_a_number(value: Any) -> Any:
    if isinstance(value, str) and _NUMBER.match(value):
        raise ValueError("must be an RFC 3339 date or timestamp, not a number")
    return value


QueryBool = Annotated[bool, BeforeValidator(_true_or_false)]
QueryTimestamp = Annotated[AwareDatetime, BeforeValidator(_not_a_number)]
QueryDate = Annotated[date, BeforeValidator(_not_a_number)]
