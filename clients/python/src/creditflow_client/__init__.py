"""creditflow-client: the Python client for creditflow (https://github.com/creditflow)."""

from creditflow_client._objects import CreditflowObject, round_up
from creditflow_client._transport import RetryPolicy, new_idempotency_key
from creditflow_client.client import AsyncCreditflow, Creditflow
from creditflow_client.errors import (
    APIConnectionError,
    AuthenticationError,
    BudgetExceeded,
    Conflict,
    CreditflowError,
    IdempotencyKeyInUse,
    IdempotencyKeyReused,
    InsufficientFunds,
    InvalidRequest,
    NotFound,
    PaymentRequired,
    PermissionDenied,
    RateLimited,
    ServerError,
)
from creditflow_client.portal import (
    AsyncCreditflowPortal,
    CreditflowPortal,
    async_login,
    async_signup,
    login,
    signup,
)
from creditflow_client.webhooks import WebhookEvent, WebhookVerificationError, verify_webhook

__all__ = [
    "APIConnectionError", "AsyncCreditflow", "AsyncCreditflowPortal", "AuthenticationError", "BudgetExceeded",
    "Conflict", "Creditflow", "CreditflowError", "CreditflowObject", "CreditflowPortal", "IdempotencyKeyInUse",
    "IdempotencyKeyReused", "InsufficientFunds", "InvalidRequest", "NotFound", "PaymentRequired", "PermissionDenied",
    "RateLimited", "RetryPolicy", "ServerError", "WebhookEvent", "WebhookVerificationError", "async_login",
    "async_signup", "login", "new_idempotency_key", "round_up", "signup", "verify_webhook",
]
