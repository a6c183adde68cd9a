"""The configured gateways, built once from settings at startup.

A gateway is on when its keys are set (the sandbox unless CREDITFLOW_SANDBOX_ENABLED=false). Half a
configuration, such as a Stripe key without its webhook secret, stops startup with GatewayConfigError
rather than failing on the first payment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from pydantic import SecretStr

from creditflow.clock import Clock
from creditflow.config import Settings
from creditflow.payments.gateways.base import PaymentGateway
from creditflow.payments.gateways.errors import GatewayConfigError, GatewayNotConfigured
from creditflow.payments.gateways.sandbox import SandboxGateway
from creditflow.payments.gateways.signing import split_secrets


class GatewayRegistry:
    def __init__(self, gateways: Mapping[str, PaymentGateway]) -> None:
        self._gateways = dict(gateways)

    def get(self, name: str) -> PaymentGateway:
        """The gateway called `name`, or GatewayNotConfigured (422) naming the ones that are."""
        gateway = self._gateways.get(name)
        if gateway is None:
            configured = ", ".join(sorted(self._gateways)) or "none"
            raise GatewayNotConfigured(
                f"gateway '{name}' is not configured (configured: {configured})", param="gateway"
            )
        return gateway

    def names(self) -> list[str]:
        return sorted(self._gateways)

    def __contains__(self, name: object) -> bool:
        return name in self._gateways


def build_gateways(settings: Settings, *, clock: Clock | None = None) -> GatewayRegistry:
    """Each configured gateway. Its SDK is imported only here, when it is configured: the three SDKs take
    longer to import than the rest of the server, and most installations use one gateway or none."""
    timeout = settings.gateway_timeout_seconds
    gateways: dict[str, PaymentGateway] = {}
    if settings.sandbox_enabled:
        gateways["sandbox"] = SandboxGateway(
            secret=_secret(settings.sandbox_secret) or sandbox_secret_for(settings.database_url),
            public_url=public_url(settings),
            clock=clock,
        )
    if settings.stripe_secret_key:
        from creditflow.payments.gateways.stripe import StripeGateway

        gateways["stripe"] = StripeGateway(
            secret_key=_secret(settings.stripe_secret_key),
            webhook_secrets=_webhook_secrets("STRIPE", settings.stripe_webhook_secret),
            api_base=settings.stripe_api_base,
            clock=clock,
            timeout=timeout,
        )
    if settings.razorpay_key_id or settings.razorpay_key_secret:
        if not (settings.razorpay_key_id and settings.razorpay_key_secret):
            raise GatewayConfigError("set both CREDITFLOW_RAZORPAY_KEY_ID and CREDITFLOW_RAZORPAY_KEY_SECRET")
        from creditflow.payments.gateways.razorpay import RazorpayGateway

        gateways["razorpay"] = RazorpayGateway(
            key_id=settings.razorpay_key_id,
            key_secret=_secret(settings.razorpay_key_secret),
            webhook_secrets=_webhook_secrets("RAZORPAY", settings.razorpay_webhook_secret),
            api_base=settings.razorpay_api_base,
            timeout=timeout,
        )
    if settings.midtrans_server_key:
        from creditflow.payments.gateways.midtrans import MidtransGateway

        gateways["midtrans"] = MidtransGateway(
            server_key=_secret(settings.midtrans_server_key),
            client_key=settings.midtrans_client_key,
            production=settings.midtrans_production,
            snap_base=settings.midtrans_snap_base,
            core_base=settings.midtrans_core_base,
            clock=clock,
            timeout=timeout,
        )
    return GatewayRegistry(gateways)


def sandbox_secret_for(database_url: str) -> str:
    """The default sandbox secret: stable per database, so every process serving it agrees.

    Anyone who knows the database URL can derive it; set CREDITFLOW_SANDBOX_SECRET (or turn the
    sandbox off) on a server others can reach.
    """
    return hashlib.sha256(b"creditflow-sandbox\0" + database_url.encode()).hexdigest()


def public_url(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    # A wildcard bind address is not somewhere a browser can go.
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def _secret(value: SecretStr | None) -> str:
    return value.get_secret_value() if value else ""


def _webhook_secrets(gateway: str, value: SecretStr | None) -> tuple[str, ...]:
    secrets = split_secrets(_secret(value))
    if not secrets:
        raise GatewayConfigError(
            f"CREDITFLOW_{gateway}_WEBHOOK_SECRET is required when the {gateway.title()} keys are set"
        )
    return secrets
