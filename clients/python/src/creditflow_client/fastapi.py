"""CreditGuard: charge each request to an operator's paid API from the caller's creditflow wallet.

Per request, one `POST /v1/authorize` (the caller's key, the price or estimate) and one capture of the
actual cost: a fixed price, a callable of the response, or what the route put in `request.state.cost`.
A route that fails (an exception, or an answer of 400 or more) has its hold voided: nothing is charged.
Refusals are JSON `{"error": {"code", "message"}}`: 401 invalid key, 402 no credit or budget exceeded,
429 with Retry-After, 503 when creditflow cannot be reached (the call is refused, never given free).

As a dependency: `guard.install(app)` once, then `Depends(guard)` (or `guard.dependency()` to settle before
the answer is sent) in each paid route. As a middleware: `app.add_middleware(CreditGuardMiddleware,
guard=guard, paths=["/v1/"])`.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow_client._objects import round_up
from creditflow_client.client import AsyncCreditflow
from creditflow_client.errors import APIConnectionError, Conflict, CreditflowError, PaymentRequired, ServerError

log = logging.getLogger("creditflow_client.guard")

REFUSAL_STATUS = {"invalid_key": 401, "insufficient_funds": 402, "budget_exceeded": 402, "rate_limited": 429}
CAPTURE_RETRY_MAX_DELAY = 60.0


@dataclass(frozen=True, slots=True)
class GuardedResponse:
    """What the route answered, for a price computed from the response."""

    status_code: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Charge:
    """The authorized request: in `request.state.creditflow` for the route to read."""

    customer: str
    hold_id: str
    estimate: Decimal
    expires_at: datetime
    api_key: str | None
    request_id: str
    settled: bool = field(default=False)


Price = Decimal | str | Callable[[Request, GuardedResponse | None], Decimal | str]
Estimate = Decimal | str | Callable[[Request], Decimal | str | Awaitable[Decimal | str]]


class CreditRefused(Exception):
    """Raised by the dependency; `guard.install(app)` renders it as the refusal JSON."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def refusal(status: int, code: str, message: str, retry_after: int | None = None) -> JSONResponse:
    headers = {"retry-after": str(retry_after)} if retry_after is not None else None
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


class CreditGuard:
    def __init__(self, client: AsyncCreditflow, price: Price | None = None, estimate: Estimate | None = None,
                 header: str = "x-api-key", currency: str | None = None, expires_in: int | None = None) -> None:
        if price is None and estimate is None:
            raise ValueError("give a price, an estimate, or both")
        self.client, self.price, self.header = client, price, header.lower()
        self.estimate = estimate if estimate is not None else price
        if callable(self.estimate) and estimate is None:
            raise ValueError("a price computed from the response needs an estimate to authorize")
        self.currency, self.expires_in = currency, expires_in
        self.background: set[asyncio.Task[None]] = set()

    # --- authorize -------------------------------------------------------------------------------
    def _key(self, request: Request) -> str | None:
        value = request.headers.get(self.header)
        if value and self.header == "authorization":
            value = value.removeprefix("Bearer ").strip()
        return value or None

    async def _estimate(self, request: Request) -> Decimal:
        value: Any = self.estimate
        if callable(value):
            value = value(request)
            if asyncio.iscoroutine(value):
                value = await value
        return round_up(Decimal(str(value)))

    async def authorize(self, request: Request) -> Charge | JSONResponse:
        """The charge for this request, or the refusal to answer instead of running the route."""
        key = self._key(request)
        if key is None:
            return refusal(401, "invalid_key", f"send your API key in the {self.header} header")
        estimate = await self._estimate(request)
        try:
            answer = await self.client.authorize(api_key=key, amount=estimate, currency=self.currency,
                                                 expires_in=self.expires_in)
        except (APIConnectionError, ServerError) as exc:
            log.error("creditflow unreachable at authorize: %s", exc)
            return refusal(503, "billing_unavailable", "billing is unavailable; try again shortly", 5)
        if not answer.allowed:
            reason = answer.reason or "insufficient_funds"
            return refusal(REFUSAL_STATUS.get(reason, 402), reason, answer.get("message") or reason,
                           answer.get("retry_after"))
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        charge = Charge(answer.customer, answer.hold_id, estimate, datetime.fromisoformat(answer.expires_at),
                        answer.get("api_key"), request_id)
        request.state.creditflow = charge
        return charge

    # --- settle ----------------------------------------------------------------------------------
    def cost(self, request: Request, charge: Charge, response: GuardedResponse | None) -> Decimal:
        reported = getattr(request.state, "cost", None)
        if reported is not None:
            return round_up(Decimal(str(reported)))
        if callable(self.price):
            return round_up(Decimal(str(self.price(request, response))))
        return round_up(Decimal(str(self.price))) if self.price is not None else charge.estimate

    async def settle(self, request: Request, charge: Charge, response: GuardedResponse | None) -> None:
        """Capture the actual cost once; a route that failed (status >= 400) is charged nothing."""
        if charge.settled:
            return
        charge.settled = True
        if response is not None and response.status_code >= 400:
            await self.void(charge)
            return
        cost = self.cost(request, charge, response)
        if cost <= 0:
            await self.void(charge)
            return
        await self._capture(charge, cost)

    async def _capture(self, charge: Charge, cost: Decimal) -> None:
        key = f"guard-capture-{charge.hold_id}"
        try:
            await self.client.holds.capture(charge.hold_id, amount=cost, final=True, idempotency_key=key)
        except PaymentRequired as exc:
            # The excess over the hold was refused: take the hold whole, and say what was not collected.
            await self.client.holds.capture(charge.hold_id, final=True, idempotency_key=f"{key}-hold")
            log.warning("creditflow: cost %s above the hold of %s refused (%s); captured the hold, shortfall %s, "
                        "request %s, customer %s", cost, charge.estimate, exc.code, cost - charge.estimate,
                        charge.request_id, charge.customer)
        except (APIConnectionError, ServerError):
            task = asyncio.get_running_loop().create_task(self._capture_later(charge, cost, key))
            self.background.add(task)
            task.add_done_callback(self.background.discard)

    async def _capture_later(self, charge: Charge, cost: Decimal, key: str) -> None:
        """Creditflow unreachable: the same capture, same key, with backoff until the hold expires."""
        delay = 0.5
        while datetime.now(UTC) < charge.expires_at:
            await asyncio.sleep(delay)
            delay = min(delay * 2, CAPTURE_RETRY_MAX_DELAY)
            try:
                await self.client.holds.capture(charge.hold_id, amount=cost, final=True, idempotency_key=key)
                return
            except (APIConnectionError, ServerError):
                continue
            except Conflict:
                break  # hold_expired
        log.error("creditflow: lost revenue %s: hold %s expired before its capture could be sent, request %s, "
                  "customer %s", cost, charge.hold_id, charge.request_id, charge.customer)

    async def void(self, charge: Charge) -> None:
        charge.settled = True
        try:
            await self.client.holds.void(charge.hold_id, idempotency_key=f"guard-void-{charge.hold_id}")
        except CreditflowError as exc:
            # An unvoided hold releases itself when it expires; nothing was charged either way.
            log.warning("creditflow: void of hold %s failed (%s); it expires on its own", charge.hold_id, exc)

    async def drain(self) -> None:
        """Wait for captures still being retried in the background (at shutdown)."""
        while self.background:
            await asyncio.gather(*self.background, return_exceptions=True)

    # --- as a dependency -------------------------------------------------------------------------
    async def __call__(self, request: Request) -> AsyncIterator[Charge]:
        charge = await self.authorize(request)
        if isinstance(charge, JSONResponse):
            raise CreditRefused(charge)
        try:
            yield charge
        except BaseException:
            await self.void(charge)
            raise
        await self.settle(request, charge, None)

    def dependency(self) -> Any:
        """`Depends(guard)` that settles before the answer is sent, where FastAPI can (0.121 and later)."""
        from fastapi import Depends

        try:
            return Depends(self, scope="function")
        except TypeError:
            return Depends(self)

    def install(self, app: Any) -> None:
        """Render the dependency's refusals as the refusal JSON."""
        app.add_exception_handler(CreditRefused, _render_refusal)


async def _render_refusal(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CreditRefused)
    return exc.response


class CreditGuardMiddleware:
    """Guards every request whose path starts with one of `paths`; the capture is sent before the last body
    chunk, so the caller sees its answer only once its charge is settled."""

    def __init__(self, app: ASGIApp, guard: CreditGuard, paths: Sequence[str] = ("/",)) -> None:
        self.app, self.guard, self.paths = app, guard, tuple(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        charge = await self.guard.authorize(request)
        if isinstance(charge, JSONResponse):
            await charge(scope, receive, send)
            return
        started: dict[str, Any] = {}
        body = bytearray()
        keep_body = callable(self.guard.price)  # only a price computed from the response reads it

        async def send_settling(message: Message) -> None:
            if message["type"] == "http.response.start":
                started["status"] = message["status"]
                started["headers"] = {k.decode("latin-1"): v.decode("latin-1") for k, v in message.get("headers", [])}
            elif message["type"] == "http.response.body":
                if keep_body:
                    body.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    await self.guard.settle(request, charge,
                                            GuardedResponse(started["status"], started["headers"], bytes(body)))
            await send(message)

        try:
            await self.app(scope, receive, send_settling)
        except BaseException:
            if not started:
                await self.guard.void(charge)
            else:
                # Cut midway: what was produced is charged.
                await self.guard.settle(request, charge, GuardedResponse(started["status"], started["headers"],
                                                                         bytes(body)))
            raise
