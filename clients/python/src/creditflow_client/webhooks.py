"""Verify creditflow's outgoing webhooks (Standard Webhooks: https://www.standardwebhooks.com)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from creditflow_client._objects import convert

TOLERANCE_SECONDS = 300


class WebhookEvent(BaseModel):
    """One event as creditflow sends it: `data` holds the object as the API shows it (amounts as Decimal)."""

    model_config = ConfigDict(frozen=True)

    id: str
    type: str
    timestamp: datetime
    data: dict[str, Any]

    @field_validator("data", mode="after")
    @classmethod
    def _amounts(cls, data: dict[str, Any]) -> dict[str, Any]:
        return convert(data)


class WebhookVerificationError(Exception):
    """The request is not a genuine, fresh creditflow webhook: answer 400 and ignore it."""


def verify_webhook(payload: bytes | str, headers: Mapping[str, str], secret: str,
                   *, tolerance: int = TOLERANCE_SECONDS, now: float | None = None) -> WebhookEvent:
    """The event when the signature is genuine and fresh; its `id` (webhook-id) is the same on every retry.

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
            return WebhookEvent(id=msg_id, **json.loads(body))
    raise WebhookVerificationError("no matching signature")
