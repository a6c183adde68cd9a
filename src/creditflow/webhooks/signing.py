"""Secrets and signatures per the Standard Webhooks specification (https://www.standardwebhooks.com), and Lago's
body and HMAC signature for endpoints in the "lago" format."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from datetime import UTC, datetime
from math import floor
from typing import Any

from standardwebhooks import Webhook

FORMATS = ("standard", "lago")
SECRET_PREFIX = "whsec_"
# The spec asks for 24 to 64 random bytes.
SECRET_BYTES = 32


def new_secret() -> str:
    """`whsec_` + base64 of 32 random bytes: the format the standardwebhooks libraries read."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def payload(event_type: str, created_at: datetime, data: dict[str, Any]) -> str:
    """The body every endpoint receives: {"type", "timestamp", "data"}, the same bytes on every retry."""
    timestamp = created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"type": event_type, "timestamp": timestamp, "data": data}, separators=(",", ":"))


def signed_headers(signing_secrets: list[str], event_id: str, sent_at: datetime, body: str) -> dict[str, str]:
    """webhook-id (the event id: receivers dedupe on it), webhook-timestamp (this attempt), webhook-signature:
    one `v1,...` signature per secret, space-separated (two while a rotated secret overlaps)."""
    # The library reads the timestamp as UTC whatever its zone says.
    sent_at = sent_at.astimezone(UTC)
    return {
        "content-type": "application/json",
        "webhook-id": event_id,
        "webhook-timestamp": str(floor(sent_at.timestamp())),
        "webhook-signature": " ".join(Webhook(secret).sign(event_id, sent_at, body) for secret in signing_secrets),
    }


def lago_payload(event_type: str, data: dict[str, Any]) -> str:
    """Lago's body: {"webhook_type", "object_type", <object_type>: {...}}; `data` holds the one object."""
    object_type = next(iter(data), "object")
    return json.dumps(
        {"webhook_type": event_type, "object_type": object_type, object_type: data.get(object_type)},
        separators=(",", ":"),
    )


def lago_signed_headers(secret: str, event_id: str, body: str) -> dict[str, str]:
    """Lago's HMAC scheme: X-Lago-Signature is base64(HMAC-SHA256(secret, body)); X-Lago-Unique-Key dedupes."""
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).digest()
    return {
        "content-type": "application/json",
        "X-Lago-Signature": base64.b64encode(digest).decode(),
        "X-Lago-Signature-Algorithm": "hmac",
        "X-Lago-Unique-Key": event_id,
    }
