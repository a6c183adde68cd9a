"""webhooks/signing.py: secrets, the body and the headers per the Standard Webhooks specification."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from creditflow.webhooks.signing import lago_payload, lago_signed_headers, new_secret, payload, signed_headers


def test_a_secret_is_whsec_and_32_random_bytes_in_base64():
    first, second = new_secret(), new_secret()
    assert first.startswith("whsec_") and first != second
    assert len(base64.b64decode(first.removeprefix("whsec_"))) == 32


def test_the_body_is_type_timestamp_and_data():
    created = datetime(2026, 3, 1, 8, 30, tzinfo=UTC)
    body = payload("invoice.paid", created, {"invoice": {"id": "inv_1", "total": "10.00"}})
    assert json.loads(body) == {
        "type": "invoice.paid", "timestamp": "2026-03-01T08:30:00Z",
        "data": {"invoice": {"id": "inv_1", "total": "10.00"}},
    }


def test_the_library_verifies_what_we_sign_with_the_real_clock():
    secret, now = new_secret(), datetime.now(UTC)
    body = payload("customer.created", now, {"customer": {"id": "cus_1"}})
    headers = signed_headers([secret], "msg_1", now, body)
    assert headers["webhook-id"] == "msg_1"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    assert headers["webhook-signature"].startswith("v1,")
    assert Webhook(secret).verify(body, headers) == json.loads(body)


def test_a_timestamp_in_another_zone_signs_the_same_instant():
    secret, now = new_secret(), datetime.now(UTC)
    jakarta = now.astimezone(timezone(timedelta(hours=7)))
    assert signed_headers([secret], "msg_1", jakarta, "{}") == signed_headers([secret], "msg_1", now, "{}")


@pytest.mark.parametrize("tamper", ["body", "id", "secret"])
def test_anything_changed_fails_verification(tamper):
    secret, now = new_secret(), datetime.now(UTC)
    body = payload("customer.created", now, {"customer": {"id": "cus_1"}})
    headers = signed_headers([secret], "msg_1", now, body)
    if tamper == "body":
        body = body.replace("cus_1", "cus_2")
    elif tamper == "id":
        headers["webhook-id"] = "msg_2"
    else:
        secret = new_secret()
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, headers)


def test_the_lago_format_is_lagos_body_signed_with_base64_hmac_sha256():
    body = lago_payload("wallet_transaction.created", {"wallet_transaction": {"lago_id": "lwt_1"}})
    assert json.loads(body) == {
        "webhook_type": "wallet_transaction.created", "object_type": "wallet_transaction",
        "wallet_transaction": {"lago_id": "lwt_1"},
    }
    headers = lago_signed_headers("whsec_key", "msg_1", body)
    # Computed by hand: what a Lago receiver checks (Base64.strict_encode64(OpenSSL::HMAC.digest("sha256", key, body))).
    expected = base64.b64encode(hmac.new(b"whsec_key", body.encode(), hashlib.sha256).digest()).decode()
    assert headers["X-Lago-Signature"] == expected
    assert (headers["X-Lago-Signature-Algorithm"], headers["X-Lago-Unique-Key"]) == ("hmac", "msg_1")
