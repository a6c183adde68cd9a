"""The customer's side: `CreditflowPortal` and `AsyncCreditflowPortal` call /v1/portal with a customer's credential.

The credential is whatever the server accepts on /v1/portal: a customer API key (cf_ck_..., read-only unless
created with the 'manage' scope), a customer JWT, or the session token `signup()` / `login()` answer. Retries
and Idempotency-Keys are the operator client's: the server scopes a portal key by customer, method and path.
"""

from __future__ import annotations

import os
from typing import Any

import httpx

from creditflow_client._operations import Operation, Resource, op
from creditflow_client._transport import (
    DEFAULT_BASE_URL,
    AsyncTransport,
    PreparedRequest,
    RetryPolicy,
    SyncTransport,
)
from creditflow_client.client import AsyncCalls, SyncCalls, _prepare

P = "/v1/portal"


class PortalCustomer(Resource):
    retrieve = op("GET", f"{P}/customer", "the signed-in customer")


class PortalWallets(Resource):
    list = op("GET", f"{P}/wallets", "a list (not paged): posted, held, available per currency")


class PortalTransactions(Resource):
    list = op("GET", f"{P}/transactions", paginated=True)


class PortalUsage(Resource):
    retrieve = op("GET", f"{P}/usage", "from?, to?, metric?, group_by?: hour|day|metric")


class PortalInvoices(Resource):
    list = op("GET", f"{P}/invoices", "issued ones only", paginated=True)
    retrieve = op("GET", f"{P}/invoices/{{invoice_id}}")
    pdf = op("GET", f"{P}/invoices/{{invoice_id}}/pdf", "the PDF's bytes", raw=True)


class PortalPackages(Resource):
    list = op("GET", f"{P}/packages", "the active credit packages", paginated=True)


class PortalGateways(Resource):
    list = op("GET", f"{P}/gateways", "the gateway names a top-up may use")


class PortalTopups(Resource):
    create = op("POST", f"{P}/topups", "gateway, amount | package, currency?, return_url?")
    retrieve = op("GET", f"{P}/topups/{{topup_id}}")


class PortalApiKeys(Resource):
    create = op("POST", f"{P}/api_keys", "name, rate_limit?; the secret is in `key`, shown once")
    list = op("GET", f"{P}/api_keys", paginated=True)
    revoke = op("POST", f"{P}/api_keys/{{api_key_id}}/revoke")


class PortalSubscriptions(Resource):
    list = op("GET", f"{P}/subscriptions", paginated=True)
    cancel = op("POST", f"{P}/subscriptions/{{subscription_id}}/cancel", "at the end of the current period")


PORTAL_RESOURCES: dict[str, type[Resource]] = {
    "customer": PortalCustomer, "wallets": PortalWallets, "transactions": PortalTransactions, "usage": PortalUsage,
    "invoices": PortalInvoices, "packages": PortalPackages, "gateways": PortalGateways, "topups": PortalTopups,
    "api_keys": PortalApiKeys, "subscriptions": PortalSubscriptions,
}
# Before there is a credential (CREDITFLOW_PORTAL_SIGNUP=true on the server): each answers a session token.
SIGNUP = Operation("POST", f"{P}/signup", doc="email, password")
LOGIN = Operation("POST", f"{P}/login", doc="email, password")
ACCOUNT_OPERATIONS = (SIGNUP, LOGIN)


class _PortalBase:
    customer: PortalCustomer
    wallets: PortalWallets
    transactions: PortalTransactions
    usage: PortalUsage
    invoices: PortalInvoices
    packages: PortalPackages
    gateways: PortalGateways
    topups: PortalTopups
    api_keys: PortalApiKeys
    subscriptions: PortalSubscriptions

    def __init__(self, token: str, base_url: str | None, max_retries: int) -> None:
        if not token:
            raise ValueError("a customer credential is needed: a customer API key, a customer JWT or a session token")
        self.token = token
        self.base_url = base_url or os.environ.get("CREDITFLOW_BASE_URL") or DEFAULT_BASE_URL
        self.retry = RetryPolicy(max_retries=max_retries)
        for name, resource in PORTAL_RESOURCES.items():
            setattr(self, name, resource(self))


class CreditflowPortal(SyncCalls, _PortalBase):
    """Blocking: `with CreditflowPortal(token=login(email, password).token) as me: me.wallets.list()`."""

    def __init__(self, token: str, base_url: str | None = None, *, timeout: float = 30.0, max_retries: int = 4,
                 http_client: httpx.Client | None = None) -> None:
        super().__init__(token, base_url, max_retries)
        self._transport = SyncTransport(token, self.base_url, timeout, self.retry, http_client)


class AsyncCreditflowPortal(AsyncCalls, _PortalBase):
    """Awaitable: `await me.topups.create(gateway="stripe", package="pkg_...")`; lists are `async for`."""

    def __init__(self, token: str, base_url: str | None = None, *, timeout: float = 30.0, max_retries: int = 4,
                 http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(token, base_url, max_retries)
        self._transport = AsyncTransport(token, self.base_url, timeout, self.retry, http_client)


def _account_request(operation: Operation, email: str, password: str) -> PreparedRequest:
    request = _prepare(operation, (), {"email": email, "password": password}, None)
    # The server keeps Idempotency-Keys per credential and these calls have none yet, so it refuses one here.
    # A retried sign-up whose first answer was lost is refused as a taken email: log in instead.
    del request.headers["idempotency-key"]
    return request


def _account_call(operation: Operation, email: str, password: str, base_url: str | None, request_timeout: float,
                  max_retries: int) -> Any:
    url = base_url or os.environ.get("CREDITFLOW_BASE_URL") or DEFAULT_BASE_URL
    transport = SyncTransport("", url, request_timeout, RetryPolicy(max_retries=max_retries), None)
    try:
        return transport.send(_account_request(operation, email, password))
    finally:
        transport.close()


async def _async_account_call(operation: Operation, email: str, password: str, base_url: str | None,
                              request_timeout: float, max_retries: int) -> Any:
    url = base_url or os.environ.get("CREDITFLOW_BASE_URL") or DEFAULT_BASE_URL
    transport = AsyncTransport("", url, request_timeout, RetryPolicy(max_retries=max_retries), None)
    try:
        return await transport.send(_account_request(operation, email, password))
    finally:
        await transport.close()


def signup(email: str, password: str, *, base_url: str | None = None, request_timeout: float = 30.0,
           max_retries: int = 4) -> Any:
    """A new account: `token` (a session token for CreditflowPortal), `expires_at`, `customer`, and `api_key`
    (the first key, shown this once, when the server makes one)."""
    return _account_call(SIGNUP, email, password, base_url, request_timeout, max_retries)


def login(email: str, password: str, *, base_url: str | None = None, request_timeout: float = 30.0,
          max_retries: int = 4) -> Any:
    """A session token for an existing account: `token`, `expires_at`, `customer`."""
    return _account_call(LOGIN, email, password, base_url, request_timeout, max_retries)


async def async_signup(email: str, password: str, *, base_url: str | None = None, request_timeout: float = 30.0,
                       max_retries: int = 4) -> Any:
    return await _async_account_call(SIGNUP, email, password, base_url, request_timeout, max_retries)


async def async_login(email: str, password: str, *, base_url: str | None = None, request_timeout: float = 30.0,
                      max_retries: int = 4) -> Any:
    return await _async_account_call(LOGIN, email, password, base_url, request_timeout, max_retries)

