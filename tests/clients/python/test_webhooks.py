"""verify_webhook accepts what creditflow's own signer sends, and nothing forged, altered or stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from creditflow.webhooks.signing import new_secret, payload, signed_headers
from creditflow_client import WebhookVerificationError, verify_webhook

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def signed(*secrets: str, sent_at: datetime = NOW) -> tuple[str, dict[str, str]]:
    body = payload("invoice.paid", NOW, {"invoice": {"id": "inv_1", "total": "12.50"}})
    return body, signed_headers(list(secrets), "msg_1", sent_at, body)


def test_a_genuine_webhook_is_read_with_decimal_amounts() -> None:
    secret = new_secret()
    body, headers = signed(secret)
    event = verify_webhook(body.encode(), headers, secret, now=NOW.timestamp())
    assert (event.id, event.type, event.timestamp) == ("msg_1", "invoice.paid", NOW)
    assert event.data["invoice"]["total"] == Decimal("12.50")


def test_while_a_rotated_secret_overlaps_either_secret_verifies() -> None:
    old, new = new_secret(), new_secret()
    body, headers = signed(new, old)
    assert verify_webhook(body, headers, old, now=NOW.timestamp()).id == "msg_1"
    assert verify_webhook(body, headers, new, now=NOW.timestamp()).id == "msg_1"


def test_another_secret_an_altered_body_or_a_stale_timestamp_is_refused() -> None:
    secret = new_secret()
    body, headers = signed(secret)
    for attempt in (
        lambda: verify_webhook(body, headers, new_secret(), now=NOW.timestamp()),
        lambda: verify_webhook(body.replace("12.50", "99.50"), headers, secret, now=NOW.timestamp()),
        lambda: verify_webhook(body, headers, secret, now=(NOW + timedelta(minutes=6)).timestamp()),
        lambda: verify_webhook(body, {k: v for k, v in headers.items() if k != "webhook-id"}, secret),
    ):
        with pytest.raises(WebhookVerificationError):
            attempt()
