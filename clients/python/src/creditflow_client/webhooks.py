"""Verify creditflow's outgoing webhooks (Standard Webhooks: https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from creditflow_client._objects import convert

TOLERANCE_SECONDS = 300


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh creditflow webhook: answer 400 and ignore it."""


def verify_webhook(payload: bytes | str, headers: Mapping[str, str], secret: str,
                   *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> Any:
    """The event `{type, timestamp, data}` (amounts as Decimal) when the signature is genuine and fresh.

    `payload` is the raw body as received (not re-serialized JSON); `secret` the endpoint's `whsec_...`.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        msg_id, stamp, signatures = (lowered["webhook-id"], lowered["webhook-timestamp"],
                                     lowered["webhook-signature"])
    except KeyError as exc:
        raise WebhookVerificationError(f"missing header {exc.args[0]}") from None
    try:
        sent_at = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number") from None
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance:
        raise WebhookVerificationError("webhook-timestamp is too old or too far ahead")
    body = payload.encode() if isinstance(payload, str) else payload
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{sent_at}.".encode() + body, hashlib.sha256).digest())
    for signature in signatures.split():
        version, _, value = signature.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected):
            return convert(json.loads(body))
    raise WebhookVerificationError("no matching signature")
