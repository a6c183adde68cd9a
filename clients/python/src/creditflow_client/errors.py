"""Typed errors: one class per creditflow error code that a caller handles differently."""

from __future__ import annotations

from typing import Any


class CreditflowError(Exception):
    """Any error answered by creditflow, or the failure to reach it."""

    def __init__(
        self, message: str, *, status: int | None = None, code: str | None = None, param: str | None = None,
        details: Any = None, body: Any = None, headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.param = param
        self.details = details
        self.body = body
        self.headers = headers or {}

    def __str__(self) -> str:
        where = f" (param {self.param})" if self.param else ""
        return f"{self.status} {self.code}: {self.message}{where}" if self.status else self.message


class APIConnectionError(CreditflowError):
    """creditflow could not be reached, or did not answer in time, after every retry."""


class AuthenticationError(CreditflowError):
    """401: missing, invalid or revoked operator key."""


class PermissionDenied(CreditflowError):
    """403: the key's scope does not allow this endpoint."""


class PaymentRequired(CreditflowError):
    """402: the spend was refused and nothing was written."""


class InsufficientFunds(PaymentRequired):
    """402 insufficient_funds: the wallet's available balance cannot cover it."""


class BudgetExceeded(PaymentRequired):
    """402 budget_exceeded: a blocking budget would go past its amount this period."""


class NotFound(CreditflowError):
    """404: no such resource."""


class Conflict(CreditflowError):
    """409: the request conflicts with the resource's state."""


class IdempotencyKeyReused(Conflict):
    """409 idempotency_key_reused: the same key was sent earlier with another body."""


class IdempotencyKeyInUse(Conflict):
    """409 idempotency_key_in_use: the first request with this key is still running (retried automatically)."""


class InvalidRequest(CreditflowError):
    """400 or 422: the request is malformed or fails validation (`param` names the field)."""


class RateLimited(CreditflowError):
    """429: over a rate limit; `retry_after` is how many seconds to wait."""

    @property
    def retry_after(self) -> float | None:
        value = self.headers.get("retry-after")
        try:
            return float(value) if value is not None else None
        except ValueError:
            return None


class ServerError(CreditflowError):
    """5xx after every retry (503: a payment gateway was unavailable)."""


_BY_CODE: dict[str, type[CreditflowError]] = {
    "insufficient_funds": InsufficientFunds,
    "budget_exceeded": BudgetExceeded,
    "idempotency_key_reused": IdempotencyKeyReused,
    "idempotency_key_in_use": IdempotencyKeyInUse,
    "rate_limited": RateLimited,
}
_BY_STATUS: dict[int, type[CreditflowError]] = {
    400: InvalidRequest, 401: AuthenticationError, 402: PaymentRequired, 403: PermissionDenied,
    404: NotFound, 409: Conflict, 422: InvalidRequest, 429: RateLimited,
}


def error_for(status: int, body: Any, headers: dict[str, str]) -> CreditflowError:
    """The typed error for one answer with `{"error": {"code", "message", "param"?, "details"?}}`."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        error = {"code": None, "message": str(body)[:500] or f"HTTP {status}"}
    code = error.get("code")
    cls = _BY_CODE.get(code or "") or _BY_STATUS.get(status) or (ServerError if status >= 500 else CreditflowError)
    return cls(
        str(error.get("message") or code or f"HTTP {status}"), status=status, code=code, param=error.get("param"),
        details=error.get("details"), body=body, headers=headers,
    )
