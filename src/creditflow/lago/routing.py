"""The Lago API's request lifecycle: creditflow's unit of work, with failures in Lago's error shape
`{status, error, code, error_details?}` instead of creditflow's."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from creditflow import errors
from creditflow.http.errors import status_for
from creditflow.http.unit_of_work import Handler, UnitOfWorkRoute, run_unit_of_work

# Lago answers every refused input with 422; creditflow's own 409s (a code taken) are refusals of input there.
_AS_VALIDATION = (errors.InvalidRequest, errors.Conflict)


class LagoError(errors.DomainError):
    """A refusal phrased the Lago way: `code` and optional `error_details` as Lago sends them."""

    def __init__(self, status: int, code: str, message: str, error_details: dict[str, Any] | None = None):
        super().__init__(message, details=error_details)
        self.status = status
        self.code = code


def lago_response(status: int, code: str | None, error_details: Any = None, message: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"status": status, "error": HTTPStatus(status).phrase}
    if code is not None:
        body["code"] = code
    if error_details is not None:
        body["error_details"] = error_details
    if message is not None:
        body["message"] = message
    return JSONResponse(body, status_code=status)


def render_domain_error(error: errors.DomainError) -> JSONResponse:
    if isinstance(error, LagoError):
        return lago_response(error.status, error.code, error.details, error.message)
    if isinstance(error, errors.NotFound):
        resource = (error.param or "resource").split(".")[0]
        return lago_response(404, f"{resource}_not_found", message=error.message)
    if isinstance(error, _AS_VALIDATION):
        field = error.param or "base"
        return lago_response(422, "validation_errors", {field: [error.code]}, error.message)
    status = status_for(error)
    return lago_response(status, error.code, error.details, error.message)


def _validation(error: RequestValidationError) -> JSONResponse:
    details: dict[str, list[str]] = {}
    for problem in error.errors():
        where = ".".join(str(p) for p in problem.get("loc", ()) if p not in ("body", "query", "path")) or "base"
        details.setdefault(where, []).append(str(problem.get("type", "invalid_value")))
    return lago_response(422, "validation_errors", details)


class LagoRoute(UnitOfWorkRoute):
    """One transaction per request (idempotent POSTs included), errors rendered as Lago renders them."""

    async def around(self, request: Request, handler: Handler) -> Response:
        try:
            return await run_unit_of_work(request, handler)
        except errors.DomainError as error:
            return render_domain_error(error)
        except RequestValidationError as error:
            return _validation(error)
