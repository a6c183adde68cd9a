"""Signature helpers shared by the adapters: HMAC on raw bytes, constant-time comparison, and the
timestamped `t=<unix>,v1=<hex>` scheme that Stripe uses (and the sandbox copies)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from creditflow.payments.gateways.errors import GatewayConfigError, InvalidSignature

TIMESTAMP_TOLERANCE_SECONDS = 300


def split_secrets(value: str | None) -> tuple[str, ...]:
    """One secret, or two separated by a comma while rotating: the new one and the old one."""
    secrets = tuple(part.strip() for part in (value or "").split(",") if part.strip())
    if len(secrets) > 2:
        raise GatewayConfigError("give at most two webhook secrets (the new and the old one) while rotating")
    return secrets


def lower_keys(headers: Mapping[str, str]) -> dict[str, str]:
    # Starlette headers are already lower-case; a plain dict from a test or a proxy may not be.
    return {key.lower(): value for key, value in headers.items()}


def hmac_sha256_hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def same(expected: str, given: str) -> bool:
    """Constant-time equality that also copes with non-ASCII input (compare_digest refuses it as str)."""
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


def matches_any(expected: Iterable[str], given: str) -> bool:
    # Every candidate is compared, so the time taken does not reveal which secret matched.
    results = [same(candidate, given) for candidate in expected]
    return any(results)


def sign_timestamped(secret: str, body: bytes, timestamp: int) -> str:
    """The header value `t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>." + body>`."""
    return f"t={timestamp},v1={hmac_sha256_hex(secret, f'{timestamp}.'.encode() + body)}"


def verify_timestamped(
    gateway: str, body: bytes, header: str | None, secrets: Sequence[str], now: datetime,
    tolerance: int = TIMESTAMP_TOLERANCE_SECONDS,
) -> int:
    """Check a `t=,v1=` header against every secret; return its timestamp or raise InvalidSignature.

    A timestamp more than `tolerance` seconds old is a replay; one more than `tolerance` seconds ahead
    is refused too, since a captured future-dated payload would otherwise stay valid for longer.
    """
    if not secrets:
        raise InvalidSignature(gateway, f"no {gateway} webhook secret is configured")
    if not header:
        raise InvalidSignature(gateway, "the signature header is missing")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and value.isdigit():
            timestamp = int(value)
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature(gateway, "the signature header has no timestamp or no v1 signature")
    payload = f"{timestamp}.".encode() + body
    expected = [hmac_sha256_hex(secret, payload) for secret in secrets]
    if not any([matches_any(expected, signature) for signature in signatures]):
        raise InvalidSignature(gateway, "no signature matches the payload")
    age = int(now.timestamp()) - timestamp
    if age > tolerance:
        raise InvalidSignature(gateway, f"the signature is {age} s old (at most {tolerance} s is accepted)")
    if -age > tolerance:
        raise InvalidSignature(gateway, f"the signature is dated {-age} s in the future")
    return timestamp
