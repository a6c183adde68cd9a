"""Domain errors: a stable code and a message. No HTTP here; http/errors.py maps codes to statuses."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str, *, param: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class InvalidRequest(DomainError):
    code = "invalid_request"


class AmountTooLarge(InvalidRequest):
    """An amount, or the balance or usage total it would make, beyond the bounds in money.py."""

    code = "amount_too_large"


class Conflict(DomainError):
    code = "conflict"


class PaymentRequired(DomainError):
    """Refused for lack of money or allowance (HTTP 402): nothing was written."""


class InsufficientFunds(PaymentRequired):
    code = "insufficient_funds"


class BudgetExceeded(PaymentRequired):
    code = "budget_exceeded"


class CustomerExists(Conflict):
    code = "customer_exists"


class WalletExists(Conflict):
    code = "wallet_exists"


class WalletNotFound(InvalidRequest):
    code = "wallet_not_found"


class CreditLimitBelowUsage(Conflict):
    code = "credit_limit_below_usage"


class GrantNotActive(Conflict):
    code = "grant_not_active"


class HoldExpired(Conflict):
    code = "hold_expired"


class HoldNotActive(Conflict):
    code = "hold_not_active"


class RefundExceedsDebit(Conflict):
    code = "refund_exceeds_debit"


class InvoiceStatusConflict(Conflict):
    """The invoice's status does not allow the change (statuses only move forward)."""

    code = "invoice_status_conflict"


class AmountNotInMinorUnits(InvalidRequest):
    """An amount that the currency's minor units cannot show exactly (0.001 USD, 1.5 JPY)."""

    code = "amount_not_in_minor_units"


class IdempotencyKeyReused(Conflict):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


class IdempotencyKeyRequired(InvalidRequest):
    """A request that must never run twice (an off-session card charge) came without an Idempotency-Key."""

    code = "idempotency_key_required"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class RateLimited(DomainError):
    code = "rate_limited"


class ServiceUnavailable(DomainError):
    """A transient failure here (a lock wait, a lost race): nothing was written, and a retry may succeed."""

    code = "service_unavailable"
