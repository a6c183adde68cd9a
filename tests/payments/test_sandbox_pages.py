"""The sandbox checkout page, driven over HTTP, with an injected deliver and with the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from creditflow.clock import ManualClock
from creditflow.payments.gateways import PaymentKind
from creditflow.payments.gateways.sandbox import WEBHOOK_PATH, SandboxGateway, SandboxNotification
from creditflow.payments.sandbox_pages import http_deliver, sandbox_router
from tests.payments.fakes.live_server import FakeGateway
from tests.payments.support import checkout_request


class Recorder:
    def __init__(self) -> None:
        self.delivered: list[SandboxNotification] = []
        self.broken = False

    async def __call__(self, notification: SandboxNotification) -> None:
        if self.broken:
            raise ConnectionError("webhook endpoint down")
        self.delivered.append(notification)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def gateway(clock: ManualClock) -> SandboxGateway:
    return SandboxGateway(secret="s3cret", public_url="http://testserver", clock=clock)


@pytest.fixture
def deliver() -> Recorder:
    return Recorder()


@pytest.fixture
async def client(gateway: SandboxGateway, deliver: Recorder) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(sandbox_router(gateway, deliver))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def open_checkout(gateway: SandboxGateway, clock: ManualClock, **overrides: object) -> tuple[str, str, str]:
    request = checkout_request(expires_at=clock.now() + timedelta(minutes=30), **overrides)
    checkout = await gateway.create_checkout(request)
    return request.topup_id, checkout.checkout_url.removeprefix("http://testserver"), checkout.token


async def press(client: httpx.AsyncClient, topup_id: str, token: str, outcome: str) -> httpx.Response:
    return await client.post(f"/sandbox/checkout/{topup_id}", data={"token": token, "outcome": outcome})


async def test_the_page_shows_the_order_escaped(client: httpx.AsyncClient, gateway: SandboxGateway,
                                               clock: ManualClock) -> None:
    _, path, _ = await open_checkout(gateway, clock, description="<script>alert(1)</script> credits")
    page = await client.get(path)
    assert page.status_code == 200
    assert "12.50 USD" in page.text and 'value="paid"' in page.text and 'value="failed"' in page.text
    assert "<script>" not in page.text and "&lt;script&gt;" in page.text


async def test_pay_delivers_a_signed_notification_and_returns_the_customer(
    client: httpx.AsyncClient, gateway: SandboxGateway, clock: ManualClock, deliver: Recorder
) -> None:
    topup_id, path, token = await open_checkout(gateway, clock)
    answer = await press(client, topup_id, token, "paid")
    assert answer.status_code == 303
    assert answer.headers["location"] == f"https://shop.example/topups/done?topup_id={topup_id}&status=paid"
    [notification] = deliver.delivered
    [event] = gateway.parse_webhook(notification.body, notification.headers)
    assert (event.status.kind, event.status.topup_id) == (PaymentKind.PAID, topup_id)
    assert (await client.get(path)).status_code == 410
    assert (await press(client, topup_id, token, "paid")).status_code == 410
    assert len(deliver.delivered) == 1


async def test_fail_then_pay(client: httpx.AsyncClient, gateway: SandboxGateway, clock: ManualClock,
                             deliver: Recorder) -> None:
    topup_id, _, token = await open_checkout(gateway, clock, return_url=None)
    failed = await press(client, topup_id, token, "failed")
    assert failed.status_code == 200 and "Payment failed." in failed.text
    paid = await press(client, topup_id, token, "paid")
    assert paid.status_code == 200 and "Payment succeeded." in paid.text
    kinds = [gateway.parse_webhook(n.body, n.headers)[0].status.kind for n in deliver.delivered]
    assert kinds == [PaymentKind.FAILED, PaymentKind.PAID]


async def test_an_undelivered_notification_can_be_sent_again(
    client: httpx.AsyncClient, gateway: SandboxGateway, clock: ManualClock, deliver: Recorder
) -> None:
    topup_id, path, token = await open_checkout(gateway, clock)
    deliver.broken = True
    assert (await press(client, topup_id, token, "paid")).status_code == 502
    assert (await client.get(path)).status_code == 200
    deliver.broken = False
    assert (await press(client, topup_id, token, "paid")).status_code == 303


async def test_bad_links_and_expired_checkouts(client: httpx.AsyncClient, gateway: SandboxGateway,
                                               clock: ManualClock, deliver: Recorder) -> None:
    topup_id, path, token = await open_checkout(gateway, clock)
    assert (await client.get(f"/sandbox/checkout/{topup_id}?token=forged.0000")).status_code == 404
    assert (await client.get(f"/sandbox/checkout/top_other?token={token}")).status_code == 404
    assert (await press(client, topup_id, token, "refund-me")).status_code == 404
    clock.advance(minutes=31)
    assert (await client.get(path)).status_code == 410
    assert (await press(client, topup_id, token, "paid")).status_code == 410
    assert deliver.delivered == []


class WebhookReceiver(FakeGateway):
    """Stands in for POST /v1/webhooks/sandbox, which the top-ups domain serves."""

    def __init__(self) -> None:
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.status = 200
        super().__init__()

    def routes(self) -> list[Route]:
        return [Route(WEBHOOK_PATH, self._receive, methods=["POST"])]

    async def _receive(self, request: Request) -> Response:
        self.received.append((await request.body(), dict(request.headers)))
        return Response(status_code=self.status)


async def test_http_deliver_posts_the_raw_signed_body(gateway: SandboxGateway, clock: ManualClock) -> None:
    topup_id, _, token = await open_checkout(gateway, clock)
    order = gateway.read_checkout_token(topup_id, token)
    with WebhookReceiver() as receiver:
        deliver = http_deliver(receiver.url + WEBHOOK_PATH)
        await deliver(gateway.build_notification(order, "paid"))
        [(body, headers)] = receiver.received
        assert gateway.parse_webhook(body, headers)[0].status.kind is PaymentKind.PAID
        receiver.status = 503
        with pytest.raises(OSError):
            await deliver(gateway.build_notification(order, "paid"))
