"""POST /v1/webhook_endpoints/{id}/rotate_secret: a new secret, and both secrets sign for 24 hours, so a receiver
still on the old secret and one already on the new one both verify; after that only the new one does."""

from __future__ import annotations

from tests.factories import customer_id, expect_error, ok
from tests.webhooks.support import deliver, make_endpoint


async def test_both_secrets_sign_for_a_day_then_only_the_new_one(client, app, clock, receiver) -> None:
    endpoint = await make_endpoint(client, receiver, "crm", ["customer.created"])
    old = endpoint["secret"]
    rotated = ok(await client.post(f"/v1/webhook_endpoints/{endpoint['id']}/rotate_secret"))
    new = rotated["secret"]
    assert new != old and new.startswith("whsec_")
    assert rotated["previous_secret_expires_at"] == "2026-01-02T00:00:00Z"
    assert ok(await client.get(f"/v1/webhook_endpoints/{endpoint['id']}"))["secret"] == new
    await customer_id(client)
    assert await deliver(app) == 1  # the receiver still verifies with the old secret
    receiver.expect("crm", new)
    await customer_id(client)
    assert await deliver(app) == 1  # and now with the new one
    clock.advance(hours=24)
    receiver.expect("crm", old)
    await customer_id(client)
    assert await deliver(app) == 1
    assert len(receiver.at("crm")) == 2 and len(receiver.rejected) == 1  # the old secret no longer signs
    (event, *_) = ok(await client.get("/v1/audit_events", params={"resource": endpoint["id"]}))["data"]
    assert event["action"] == "webhook_endpoint.rotate_secret"
    assert event["changes"]["secret"] == {"before": "[redacted]", "after": "[redacted]"}


async def test_an_unknown_endpoint_cannot_be_rotated(client) -> None:
    expect_error(await client.post("/v1/webhook_endpoints/whe_nothing/rotate_secret"), 404, "not_found")
