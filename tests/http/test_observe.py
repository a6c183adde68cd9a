"""X-Request-Id on every response (fast path, routes, errors) and in every log line of the request."""

from __future__ import annotations

import logging

import httpx
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from creditflow.http.observe import MAX_ID_LENGTH, Observe
from creditflow.observability.logs import RequestIdFilter
from tests.factories import grant, make_customer


async def test_every_response_carries_a_generated_request_id(app, client):
    customer = await make_customer(client)
    await grant(client, customer["id"], "1.00")
    answers = [
        await client.post("/v1/debits", json={"customer": customer["id"], "amount": "0.10"}),  # the fast path
        await client.post("/v1/debits", json={"customer": customer["id"], "amount": "9.00"}),  # its 402
        await client.post("/v1/debits", content=b"{not json", headers={"Content-Type": "application/json"}),
        await client.get(f"/v1/customers/{customer['id']}"),
        await client.get("/health/live"),
        await client.get("/no/such/route"),
    ]
    assert [a.status_code for a in answers] == [201, 402, 400, 200, 200, 404]
    ids = [a.headers["X-Request-Id"] for a in answers]
    assert len(set(ids)) == len(ids) and all(len(i) == 24 for i in ids)


async def test_a_callers_request_id_is_kept_and_an_unusable_one_replaced(client):
    mine = await client.get("/health/live", headers={"X-Request-Id": "lb-7f3a.42"})
    assert mine.headers["X-Request-Id"] == "lb-7f3a.42"
    for unusable in ("x" * (MAX_ID_LENGTH + 1), "two words", "caf\u00e9"):
        replaced = await client.get("/health/live", headers={"X-Request-Id": unusable.encode()})
        assert replaced.headers["X-Request-Id"] != unusable and len(replaced.headers["X-Request-Id"]) == 24


async def test_log_lines_written_during_a_request_carry_its_id(caplog):
    async def endpoint(_request: object) -> PlainTextResponse:
        logging.getLogger("creditflow.test").warning("inside the request")
        return PlainTextResponse("ok")

    inner = Starlette(routes=[Route("/work", endpoint)])
    caplog.handler.addFilter(RequestIdFilter())
    transport = httpx.ASGITransport(app=Observe(inner, lambda _method, _path: False))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        response = await http.get("/work", headers={"X-Request-Id": "req-1"})
    logging.getLogger("creditflow.test").warning("outside any request")
    stamped = {r.getMessage(): r.request_id for r in caplog.records}
    assert response.headers["X-Request-Id"] == "req-1"
    assert stamped == {"inside the request": "req-1", "outside any request": "-"}
