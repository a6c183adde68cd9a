"""Gateway errors. Each is a DomainError with a stable code, so the one HTTP error map can render it.

Callers tell three situations apart:
- GatewayUnavailable: the gateway could not be reached or answered 5xx/429/timeout. The outcome of the
  call is unknown; answer 503 (webhooks) or retry later with the same idempotency key.
- GatewayRefused: the gateway answered and said no (4xx). Retrying the same call will not help.
- InvalidSignature: a webhook or checkout result that we cannot prove came from the gateway.
"""

from __future__ import annotations

from typing import Any

from creditflow.errors import DomainError, InvalidRequest


class GatewayError(DomainError):
    code = "gateway_error"

    def __init__(self, gateway: str, message: str, *, param: str | None = None, **details: Any) -> None:
        super().__init__(message, param=param, details={"gateway": gateway, **details})
        self.gateway = gateway


class GatewayUnavailable(GatewayError):
    """Transient: connection refused or reset, timeout, 5xx, rate limited. Safe to retry."""

    code = "gateway_unavailable"


class GatewayRefused(GatewayError):
    """Permanent: the gateway rejected the request (bad parameters, authentication, state)."""

    code = "gateway_refused"


class InvalidSignature(GatewayError):
    """The signature does not match any configured secret, or its timestamp is outside the tolerance."""

    code = "invalid_signature"


class OperationNotSupported(GatewayError):
    """The gateway has no such operation (a saved-method charge on Midtrans, a checkout signature on Stripe)."""

    code = "gateway_operation_not_supported"


class UnsupportedAmount(GatewayError, InvalidRequest):
    """The amount cannot be expressed exactly in the gateway's minor units (fractional rupiah, 0.001 USD)."""

    code = "amount_not_supported_by_gateway"


class UnsupportedCurrency(GatewayError, InvalidRequest):
    code = "currency_not_supported_by_gateway"


class GatewayNotConfigured(InvalidRequest):
    code = "gateway_not_configured"


class GatewayConfigError(ValueError):
    """Settings that cannot build a gateway (a key without its webhook secret): raised at startup."""
