"""Issue 11 D7: a request body larger than max_body_bytes is 413 payload_too_large, on every route."""

from __future__ import annotations

import httpx
import pytest

from creditflow.app import create_app
from tests.factories import expect_error, make_customer
from tests.http.support import ledger_state


def _padded(customer: str, size: int) -> bytes:
    prefix = f'{{"customer": "{customer}", "amount": "1", "description": "'.encode()
    return prefix + b"x" * (size - len(prefix) - 2) + b'"}'


@pytest.fixture
async def small_client(settings, clock, operator_key):
    app = create_app(settings.model_copy(update={"max_body_bytes": 2048}), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test",
        headers={"Authorization": f"Bearer {operator_key}"},
    ) as http:
        yield http
    await app.state.debit_committer.stop()
    await app.state.engine.dispose()


@pytest.mark.parametrize("path", ["/v1/debits", "/v1/holds", "/v1/customers"])
async def test_d7_body_over_the_limit_is_413_payload_too_large_and_writes_nothing(small_client, path):
    customer = (await make_customer(small_client))["id"]
    before = await ledger_state(small_client)
    response = await small_client.post(
        path, content=_padded(customer, 2049), headers={"Content-Type": "application/json"}
    )
    assert "2048 bytes" in expect_error(response, 413, "payload_too_large")["message"]
    assert await ledger_state(small_client) == before


async def test_d7_streamed_body_without_a_length_is_counted_and_refused(small_client):
    customer = (await make_customer(small_client))["id"]

    async def chunks():
        body = _padded(customer, 4096)
        for start in range(0, len(body), 512):
            yield body[start:start + 512]

    response = await small_client.post("/v1/debits", content=chunks(), headers={"Content-Type": "application/json"})
    expect_error(response, 413, "payload_too_large")


async def test_d7_body_at_the_limit_is_served(small_client):
    customer = (await make_customer(small_client))["id"]
    response = await small_client.post(
        "/v1/customers", content=b'{"external_id": "' + b"e" * 200 + b'"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 201, response.text
    assert customer
