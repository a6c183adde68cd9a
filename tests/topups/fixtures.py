"""Top-up fixtures: the app configured with every gateway, each pointed at its local fake server.

Imported by tests/topups/conftest.py and by the top-up scenarios. The fakes run for the whole session
(starting them per test would cost more than most tests); each test points them at its own clock, so
signatures and expiries agree with the app's ManualClock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from creditflow.clock import ManualClock
from creditflow.config import Settings
from tests.payments.fakes import midtrans_server, razorpay_server, stripe_server
from tests.payments.fakes.midtrans_server import FakeMidtrans
from tests.payments.fakes.razorpay_server import FakeRazorpay
from tests.payments.fakes.stripe_server import FakeStripe

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ClockRef:
    """The clock of the test running now, read by the session's fake servers."""

    def __init__(self) -> None:
        self.clock = ManualClock(START)

    def timestamp(self) -> float:
        return self.clock.now().timestamp()


@dataclass(frozen=True)
class Fakes:
    stripe: FakeStripe
    razorpay: FakeRazorpay
    midtrans: FakeMidtrans


@pytest.fixture(scope="session")
def clock_ref() -> ClockRef:
    return ClockRef()


@pytest.fixture(scope="session")
def fakes(clock_ref: ClockRef) -> Iterator[Fakes]:
    with (
        FakeStripe(now=clock_ref.timestamp) as stripe,
        FakeRazorpay(now=clock_ref.timestamp) as razorpay,
        FakeMidtrans(now=clock_ref.timestamp) as midtrans,
    ):
        yield Fakes(stripe=stripe, razorpay=razorpay, midtrans=midtrans)


@pytest.fixture
def clock(clock_ref: ClockRef) -> ManualClock:
    clock_ref.clock = ManualClock(START)
    return clock_ref.clock


@pytest.fixture
def settings(database_url: str, fakes: Fakes) -> Settings:
    return Settings(
        database_url=database_url, jobs_enabled=False, public_url="http://creditflow.test",
        sandbox_secret="sandbox-test-secret", gateway_timeout_seconds=2,
        stripe_secret_key=stripe_server.SECRET_KEY, stripe_webhook_secret=stripe_server.WEBHOOK_SECRET,
        stripe_api_base=fakes.stripe.url,
        razorpay_key_id=razorpay_server.KEY_ID, razorpay_key_secret=razorpay_server.KEY_SECRET,
        razorpay_webhook_secret=razorpay_server.WEBHOOK_SECRET, razorpay_api_base=fakes.razorpay.url,
        midtrans_server_key=midtrans_server.SERVER_KEY, midtrans_client_key=midtrans_server.CLIENT_KEY,
        midtrans_snap_base=fakes.midtrans.url, midtrans_core_base=fakes.midtrans.url,
    )


@pytest.fixture
async def gateway_client(app) -> AsyncIterator[httpx.AsyncClient]:
    """A client with no operator key, as a payment gateway calls."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as http:
        yield http
