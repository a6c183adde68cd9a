"""The one map from domain error codes to HTTP statuses, and the error body every failure uses:
{"error": {"code", "message", "param"?, "details"?}}."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from creditflow import errors
from creditflow.db.dialect import constraint_violated
from creditflow.http.input_limits import QUOTE_PREFIX, UnsafeInput, quote
from creditflow.http.json_body import body_problem
from creditflow.http.route_table import leaf_routes
from creditflow.observability import metrics
from creditflow.payments.gateways import errors as gateway_errors

log = logging.getLogger("creditflow.http")

_STATUS_BY_ERROR: list[tuple[type[errors.DomainError], int]] = [
    # A gateway that could not be reached asks for a retry; one that said no is a bad gateway answer.
    (gateway_errors.GatewayUnavailable, 503),
    (gateway_errors.GatewayRefused, 502),
    (gateway_errors.InvalidSignature, 400),
    (gateway_errors.OperationNotSupported, 422),
    (errors.Unauthenticated, 401),
    (errors.Forbidden, 403),
    (errors.PaymentRequired, 402),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.InvalidRequest, 422),
    (errors.RateLimited, 429),
    (errors.ServiceUnavailable, 503),
]


def status_for(error: errors.DomainError) -> int:
    for error_type, status in _STATUS_BY_ERROR:
        if isinstance(error, error_type):
            return status
    return 400


def error_response(
    status: int, code: str, message: str, *, param: str | None = None, details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": _shorten_quotes(message)}
    if param is not None:
        body["param"] = param
    if details is not None:
        body["details"] = details
    return JSONResponse({"error": body}, status_code=status, headers=headers)


_QUOTED = re.compile("'([^']{" + str(QUOTE_PREFIX + 1) + ",})'")


def _shorten_quotes(message: str) -> str:
    """Messages quote what was sent ('...'): at most a short prefix of it, never a megabyte echoed back."""
    return _QUOTED.sub(lambda match: f"'{quote(match.group(1))}'", message)


def domain_error_response(error: errors.DomainError) -> JSONResponse:
    # An error that says when to come back (rate limits) says it in the standard header too.
    retry_after = error.details.get("retry_after") if error.details else None
    status = status_for(error)
    if status == 402:
        metrics.payment_required.labels(error.code).inc()
    return error_response(
        status, error.code, error.message, param=error.param, details=error.details,
        headers={"Retry-After": str(retry_after)} if retry_after is not None else None,
    )


def body_problem_response(problem: ValueError) -> JSONResponse:
    if isinstance(problem, UnsafeInput):
        text = f"{problem.param}: {problem.message}" if problem.param else problem.message
        return error_response(422, "validation_error", text, param=problem.param,
                              details=[{"param": problem.param, "message": problem.message}])
    return error_response(400, "invalid_json", f"the request body is not valid JSON: {problem}")


def _validation_response(exc: RequestValidationError) -> JSONResponse:
    problems = list(exc.errors())
    if any(p.get("type") == "json_invalid" for p in problems):
        reason = next((p.get("ctx", {}).get("error") for p in problems if p.get("ctx")), None)
        return error_response(400, "invalid_json", f"the request body is not valid JSON: {reason or 'decode error'}")
    # A money amount past the bounds has its own code, as when a service finds it (errors.AmountTooLarge).
    code = "amount_too_large" if problems[0].get("type") == "amount_too_large" else "validation_error"
    details = []
    for problem in problems:
        location = [str(part) for part in problem.get("loc", ()) if part not in ("body", "query", "path")]
        message = problem.get("msg", "invalid value")
        if problem.get("type") == "extra_forbidden":
            message = "unknown field"
        details.append({"param": ".".join(location) or None, "message": message})
    first = details[0] if details else {"param": None, "message": "invalid request"}
    text = f"{first['param']}: {first['message']}" if first["param"] else first["message"]
    return error_response(422, code, text, param=first["param"], details=details)


def allowed_methods(request: Request) -> set[str]:
    """Every method some route serves at this path: one route per method, so the first one's list is not all."""
    allowed: set[str] = set()
    for route in leaf_routes(request.app.router.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            allowed |= set(getattr(route, "methods", None) or ())
    return allowed


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(errors.DomainError)
    async def _domain(_: Request, exc: errors.DomainError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        # A refused body reaches the endpoint as INVALID_BODY (after authentication): answer its own problem.
        problem = body_problem(request)
        return body_problem_response(problem) if problem is not None else _validation_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}
        message = exc.detail if isinstance(exc.detail, str) else "request failed"
        headers = getattr(exc, "headers", None)
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint"
        if exc.status_code == 405:
            message, headers = "method not allowed", {"Allow": ", ".join(sorted(allowed_methods(request)))}
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=headers)

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        unique, constraint = constraint_violated(exc)
        if unique:
            # A uniqueness race lost to a concurrent request: nothing was written, a retry sees the winner.
            log.info("integrity conflict: %s", constraint)
            return error_response(409, "conflict", "a concurrent request changed the same resource; retry")
        # Any other constraint (no_overdraft, the balance bounds) is the database catching what the services
        # should have refused: a bug, never something a retry fixes.
        log.error("constraint violated: %s", constraint)
        return error_response(500, "internal_error", "an unexpected error occurred; nothing was changed")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return error_response(500, "internal_error", "an unexpected error occurred; nothing was changed")
