"""`Creditflow` and `AsyncCreditflow`: the same resources, blocking or awaitable."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Self

import httpx

from creditflow_client._operations import Operation, op
from creditflow_client._transport import (
    DEFAULT_BASE_URL,
    AsyncTransport,
    PreparedRequest,
    RetryPolicy,
    SyncTransport,
    build_path,
    prepare,
)
from creditflow_client.resources import RESOURCES

if TYPE_CHECKING:
    from creditflow_client.events_buffer import AsyncEventBuffer, EventBuffer
    from creditflow_client.resources import (
        ApiKeys,
        AuditEvents,
        Budgets,
        Coupons,
        CreditGrants,
        Customers,
        Debits,
        Events,
        Exports,
        Health,
        Holds,
        Invoices,
        Metrics,
        Packages,
        PaymentMethods,
        Plans,
        PortalSessions,
        Prices,
        Reports,
        Statements,
        Subscriptions,
        Topups,
        Transactions,
        Usage,
        Wallets,
        WebhookEndpoints,
        WebhookEvents,
    )

PAGE_SIZE = 100


class _Base:
    authorize = op("POST", "/v1/authorize", "api_key | customer, amount (the estimate), currency?, expires_in?")

    customers: Customers
    wallets: Wallets
    credit_grants: CreditGrants
    debits: Debits
    holds: Holds
    events: Events
    metrics: Metrics
    prices: Prices
    budgets: Budgets
    api_keys: ApiKeys
    packages: Packages
    topups: Topups
    payment_methods: PaymentMethods
    invoices: Invoices
    coupons: Coupons
    statements: Statements
    plans: Plans
    subscriptions: Subscriptions
    usage: Usage
    transactions: Transactions
    reports: Reports
    audit_events: AuditEvents
    exports: Exports
    webhook_endpoints: WebhookEndpoints
    webhook_events: WebhookEvents
    portal_sessions: PortalSessions
    health: Health

    def __init__(self, api_key: str | None, base_url: str | None, max_retries: int) -> None:
        self._client = self  # `authorize` is an operation declared on the client itself
        self.api_key = api_key or os.environ.get("CREDITFLOW_API_KEY") or ""
        if not self.api_key:
            raise ValueError("an operator key is needed: Creditflow(api_key=...) or CREDITFLOW_API_KEY")
        self.base_url = base_url or os.environ.get("CREDITFLOW_BASE_URL") or DEFAULT_BASE_URL
        self.retry = RetryPolicy(max_retries=max_retries)
        for name, resource in RESOURCES.items():
            setattr(self, name, resource(self))


def _prepare(operation: Operation, args: tuple[Any, ...], fields: dict[str, Any], idempotency_key: str | None,
             extra: dict[str, Any] | None = None) -> PreparedRequest:
    body, params = operation.body_and_params(fields)
    if extra:
        params = {**(params or {}), **extra}
    return prepare(operation.method, build_path(operation.path, args), params, body, idempotency_key, operation.raw)


def _page_items(page: Any) -> tuple[list[Any], bool]:
    """A list answer's items and whether more follow; a bare array is one whole page."""
    if isinstance(page, list):
        return page, False
    return list(page["data"]), bool(page.get("has_more"))


class SyncCalls:
    """Operations over a blocking transport: answers, auto-paginating lists, streamed downloads."""

    _transport: SyncTransport

    def _call(self, operation: Operation, args: tuple[Any, ...], fields: dict[str, Any],
              idempotency_key: str | None) -> Any:
        if operation.paginated:
            return self._iterate(operation, args, fields)
        request = _prepare(operation, args, fields, idempotency_key)
        if operation.stream:
            return self._transport.stream(request)
        return self._transport.send(request)

    def _iterate(self, operation: Operation, args: tuple[Any, ...], fields: dict[str, Any]) -> Iterator[Any]:
        fields = {"limit": PAGE_SIZE, **fields}
        while True:
            items, has_more = _page_items(self._transport.send(_prepare(operation, args, fields, None)))
            yield from items
            if not has_more or not items:
                return
            fields["starting_after"] = items[-1]["id"]

    def close(self) -> None:
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Creditflow(SyncCalls, _Base):
    """Blocking client. `with Creditflow(api_key, base_url) as cf: cf.customers.create(external_id="acme")`."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: float = 30.0,
                 max_retries: int = 4, http_client: httpx.Client | None = None) -> None:
        super().__init__(api_key, base_url, max_retries)
        self._transport = SyncTransport(self.api_key, self.base_url, timeout, self.retry, http_client)

    def event_buffer(self, **options: Any) -> EventBuffer:
        """Events sent in batches from a background thread; `flush()` or leaving the `with` sends the rest."""
        from creditflow_client.events_buffer import EventBuffer

        return EventBuffer(self, **options)


class AsyncCalls:
    """Operations over an awaitable transport: lists and streamed downloads are `async for`."""

    _transport: AsyncTransport

    def _call(self, operation: Operation, args: tuple[Any, ...], fields: dict[str, Any],
              idempotency_key: str | None) -> Any:
        if operation.paginated:
            return self._iterate(operation, args, fields)
        request = _prepare(operation, args, fields, idempotency_key)
        if operation.stream:
            return self._transport.stream(request)
        return self._transport.send(request)

    async def _iterate(self, operation: Operation, args: tuple[Any, ...], fields: dict[str, Any]) -> AsyncIterator[Any]:
        fields = {"limit": PAGE_SIZE, **fields}
        while True:
            page = await self._transport.send(_prepare(operation, args, fields, None))
            items, has_more = _page_items(page)
            for item in items:
                yield item
            if not has_more or not items:
                return
            fields["starting_after"] = items[-1]["id"]

    async def close(self) -> None:
        await self._transport.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class AsyncCreditflow(AsyncCalls, _Base):
    """Awaitable client: `await cf.debits.create(...)`; lists are `async for`."""

    def __init__(self, api_key: str | None = None, base_url: str | None = None, *, timeout: float = 30.0,
                 max_retries: int = 4, http_client: httpx.AsyncClient | None = None) -> None:
        super().__init__(api_key, base_url, max_retries)
        self._transport = AsyncTransport(self.api_key, self.base_url, timeout, self.retry, http_client)

    def event_buffer(self, **options: Any) -> AsyncEventBuffer:
        """Events sent in batches from a background task; `await flush()` or `async with` sends the rest."""
        from creditflow_client.events_buffer import AsyncEventBuffer

        return AsyncEventBuffer(self, **options)
