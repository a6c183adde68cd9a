"""CreditGuard in front of an operator's FastAPI app, charging a real creditflow for each request."""

from __future__ import annotations

import json
import logging
import uuid
from decimal import Decimal

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from creditflow_client import AsyncCreditflow
from creditflow_client.fastapi import Charge, CreditGuard, CreditGuardMiddleware
from tests.served import Served


class Recording(httpx.AsyncBaseTransport):
    """The network to creditflow: records each request's path; the first `fail_captures` captures never arrive."""

    def __init__(self, fail_captures: int = 0) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.paths: list[str] = []
        self.capture_keys: list[str] = []
        self.fail_captures = fail_captures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path.endswith("/capture"):
            self.capture_keys.append(request.headers["idempotency-key"])
            if self.fail_captures:
                self.fail_captures -= 1
                raise httpx.ConnectError("creditflow is down", request=request)
        return await self.inner.handle_async_request(request)


async def customer_key(cf: AsyncCreditflow, grant: str, **key_fields: object) -> tuple[str, str]:
    customer = (await cf.customers.create(external_id=f"g-{uuid.uuid4().hex[:10]}")).id
    await cf.credit_grants.create(customer=customer, amount=grant, category="paid")
    key = await cf.api_keys.create(customer, name="app", **key_fields)
    return customer, key.key


async def available(cf: AsyncCreditflow, customer: str) -> Decimal:
    [wallet] = [w async for w in cf.wallets.list(customer)]
    return wallet.available


def app_with_dependency(guard: CreditGuard) -> FastAPI:
    app = FastAPI()
    guard.install(app)

    @app.post("/send")
    async def send(charge: Charge = guard.dependency()) -> dict[str, str]:
        return {"customer": charge.customer}

    @app.post("/broken")
    async def broken(charge: Charge = guard.dependency()) -> dict[str, str]:
        raise RuntimeError("the route failed")

    @app.post("/metered")
    async def metered(request: Request, words: int, charge: Charge = Depends(guard)) -> dict[str, int]:
        request.state.cost = Decimal("0.10") * words
        return {"words": words}

    return app


def client_for(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                             base_url="http://operator.test")


async def test_the_dependency_charges_the_price_once_per_request_and_refuses_at_the_limit(served: Served) -> None:
    network = Recording()
    async with AsyncCreditflow(served.operator_key, served.base_url,
                               http_client=httpx.AsyncClient(base_url=served.base_url, transport=network)) as cf:
        customer, key = await customer_key(cf, "2.50")
        network.paths.clear()
        async with client_for(app_with_dependency(CreditGuard(cf, price=Decimal("1.00")))) as app:
            assert (await app.post("/send", headers={"x-api-key": key})).json() == {"customer": customer}
            assert network.paths == ["/v1/authorize", f"/v1/holds/{network.paths[1].split('/')[3]}/capture"]
            assert (await app.post("/broken", headers={"x-api-key": key})).status_code == 500
            assert (await app.post("/send", headers={"x-api-key": key})).status_code == 200
            refused = await app.post("/send", headers={"x-api-key": key})
            assert refused.status_code == 402
            assert refused.json()["error"]["code"] == "insufficient_funds"
            assert (await app.post("/send", headers={"x-api-key": "cf_ck_forged"})).status_code == 401
            missing = await app.post("/send")
            assert (missing.status_code, missing.json()["error"]["code"]) == (401, "invalid_key")
        assert await available(cf, customer) == Decimal("0.50")


async def test_a_reported_cost_is_captured_and_above_the_hold_the_hold_is_taken_whole(
    served: Served, caplog: pytest.LogCaptureFixture,
) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        customer, key = await customer_key(cf, "1.00")
        async with client_for(app_with_dependency(CreditGuard(cf, estimate="0.50"))) as app:
            assert (await app.post("/metered?words=2", headers={"x-api-key": key})).status_code == 200
            assert await available(cf, customer) == Decimal("0.80")
            with caplog.at_level(logging.WARNING, logger="creditflow_client.guard"):
                assert (await app.post("/metered?words=9", headers={"x-api-key": key})).status_code == 200
        # 0.90 is more than the 0.80 left: the 0.50 hold is captured whole and the shortfall logged.
        assert await available(cf, customer) == Decimal("0.30")
        assert "shortfall 0.400000" in caplog.text


async def test_the_middleware_prices_from_the_response_and_voids_a_failed_answer(served: Served) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        customer, key = await customer_key(cf, "5.00")

        def per_item(request: Request, response) -> Decimal:
            return Decimal("0.25") * len(json.loads(response.body)["items"])

        app = FastAPI()
        app.add_middleware(CreditGuardMiddleware, guard=CreditGuard(cf, price=per_item, estimate="2.00"),
                           paths=["/paid/"])

        @app.get("/paid/items")
        async def items(n: int) -> JSONResponse:
            if n < 0:
                return JSONResponse({"error": "negative"}, status_code=400)
            return JSONResponse({"items": list(range(n))})

        @app.get("/free")
        async def free() -> dict[str, bool]:
            return {"free": True}

        async with client_for(app) as http:
            assert (await http.get("/paid/items?n=3", headers={"x-api-key": key})).status_code == 200
            assert (await http.get("/paid/items?n=-1", headers={"x-api-key": key})).status_code == 400
            assert (await http.get("/free")).json() == {"free": True}
            assert (await http.get("/paid/items?n=1")).status_code == 401
        assert await available(cf, customer) == Decimal("4.25")


async def test_a_rate_limited_key_gets_429_with_retry_after(served: Served) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        _, key = await customer_key(cf, "5.00", rate_limit={"requests": 1, "per": "minute"})
        async with client_for(app_with_dependency(CreditGuard(cf, price="1"))) as app:
            assert (await app.post("/send", headers={"x-api-key": key})).status_code == 200
            limited = await app.post("/send", headers={"x-api-key": key})
            assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


async def test_a_capture_that_cannot_reach_creditflow_is_retried_with_its_key_until_it_lands(served: Served) -> None:
    network = Recording(fail_captures=2)
    async with AsyncCreditflow(served.operator_key, served.base_url, max_retries=0,
                               http_client=httpx.AsyncClient(base_url=served.base_url, transport=network)) as cf:
        customer, key = await customer_key(cf, "3.00")
        guard = CreditGuard(cf, price="1.00")
        async with client_for(app_with_dependency(guard)) as app:
            assert (await app.post("/send", headers={"x-api-key": key})).status_code == 200
            await guard.drain()
        assert len(network.capture_keys) == 3 and len(set(network.capture_keys)) == 1
        [wallet] = [w async for w in cf.wallets.list(customer)]
        assert (wallet.available, wallet.held, wallet.posted) == (Decimal("2.00"), Decimal("0"), Decimal("2.00"))


async def test_a_capture_still_unsent_when_the_hold_expires_is_logged_as_lost_revenue(
    served: Served, caplog: pytest.LogCaptureFixture,
) -> None:
    network = Recording(fail_captures=1_000)
    async with AsyncCreditflow(served.operator_key, served.base_url, max_retries=0,
                               http_client=httpx.AsyncClient(base_url=served.base_url, transport=network)) as cf:
        customer, key = await customer_key(cf, "3.00")
        guard = CreditGuard(cf, price="1.00", expires_in=1)
        async with client_for(app_with_dependency(guard)) as app:
            assert (await app.post("/send", headers={"x-api-key": key})).status_code == 200
            with caplog.at_level(logging.ERROR, logger="creditflow_client.guard"):
                await guard.drain()
        assert "lost revenue 1.000000" in caplog.text and len(set(network.capture_keys)) == 1
        [wallet] = [w async for w in cf.wallets.list(customer)]
        assert (wallet.available, wallet.posted) == (Decimal("3.00"), Decimal("3.00"))  # the expired hold let go
