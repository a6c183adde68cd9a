"""Building the configured gateways from CREDITFLOW_* settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from creditflow.config import Settings
from creditflow.payments.gateways import GatewayConfigError, GatewayNotConfigured, PaymentKind
from creditflow.payments.gateways.registry import build_gateways, public_url, sandbox_secret_for
from creditflow.payments.gateways.sandbox import SandboxOrder
from tests.payments.fakes.midtrans_server import SERVER_KEY, FakeMidtrans
from tests.payments.fakes.stripe_server import FakeStripe
from tests.payments.support import checkout_request

ALL_KEYS = {
    "stripe_secret_key": "sk_test_1", "stripe_webhook_secret": "whsec_1",
    "razorpay_key_id": "rzp_test_1", "razorpay_key_secret": "s", "razorpay_webhook_secret": "w",
    "midtrans_server_key": "SB-Mid-server-1",
}


def settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)


def test_out_of_the_box_only_the_sandbox_is_on() -> None:
    registry = build_gateways(settings())
    assert registry.names() == ["sandbox"]
    assert "stripe" not in registry
    with pytest.raises(GatewayNotConfigured) as missing:
        registry.get("stripe")
    assert "configured: sandbox" in missing.value.message and missing.value.param == "gateway"


def test_keys_turn_gateways_on_and_the_sandbox_can_be_turned_off() -> None:
    assert build_gateways(settings(**ALL_KEYS)).names() == ["midtrans", "razorpay", "sandbox", "stripe"]
    assert build_gateways(settings(**ALL_KEYS, sandbox_enabled=False)).names() == ["midtrans", "razorpay", "stripe"]


@pytest.mark.parametrize("broken", [
    {"stripe_secret_key": "sk_test_1"},
    {"stripe_secret_key": "sk_test_1", "stripe_webhook_secret": "a,b,c"},
    {"razorpay_key_id": "rzp_test_1", "razorpay_webhook_secret": "w"},
    {"razorpay_key_id": "rzp_test_1", "razorpay_key_secret": "s"},
])
def test_half_a_configuration_stops_startup(broken: dict) -> None:
    with pytest.raises(GatewayConfigError):
        build_gateways(settings(**broken))


def test_the_default_sandbox_secret_is_stable_per_database() -> None:
    assert sandbox_secret_for("sqlite+aiosqlite:///./a.db") == sandbox_secret_for("sqlite+aiosqlite:///./a.db")
    assert sandbox_secret_for("sqlite+aiosqlite:///./a.db") != sandbox_secret_for("sqlite+aiosqlite:///./b.db")
    one, two = (build_gateways(settings(database_url="sqlite+aiosqlite:///./a.db")).get("sandbox") for _ in "12")
    note = one.build_notification(
        two.read_checkout_token("top_1", two.checkout_token(_order())), "paid"
    )
    assert two.parse_webhook(note.body, note.headers)[0].status.kind is PaymentKind.PAID


def _order() -> SandboxOrder:
    return SandboxOrder(topup_id="top_1", amount=1_000_000, currency="USD", description="x",
                        expires_at=datetime.now(UTC) + timedelta(hours=1))


def test_public_url() -> None:
    assert public_url(settings(host="0.0.0.0", port=9000)) == "http://127.0.0.1:9000"
    assert public_url(settings(public_url="https://billing.example/")) == "https://billing.example"


async def test_stripe_secrets_and_address_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeStripe() as fake:
        monkeypatch.setenv("CREDITFLOW_STRIPE_SECRET_KEY", "sk_test_creditflow")
        monkeypatch.setenv("CREDITFLOW_STRIPE_WEBHOOK_SECRET", "whsec_new, whsec_old")
        monkeypatch.setenv("CREDITFLOW_STRIPE_API_BASE", fake.url)
        stripe = build_gateways(Settings(_env_file=None)).get("stripe")
        checkout = await stripe.create_checkout(checkout_request())
        assert checkout.gateway_reference in fake.sessions
        for secret in ("whsec_new", "whsec_old"):
            note = fake.event("checkout.session.expired", fake.sessions[checkout.gateway_reference], secret=secret)
            assert stripe.parse_webhook(note.body, note.headers)[0].status.kind is PaymentKind.EXPIRED


async def test_midtrans_addresses_come_from_settings() -> None:
    with FakeMidtrans() as fake:
        midtrans = build_gateways(settings(
            midtrans_server_key=SERVER_KEY, midtrans_snap_base=fake.url, midtrans_core_base=fake.url,
        )).get("midtrans")
        request = checkout_request("50000", "IDR")
        await midtrans.create_checkout(request)
        fake.choose(request.topup_id)
        assert (await midtrans.fetch_status(request.topup_id)).kind is PaymentKind.PENDING
