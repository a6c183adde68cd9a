"""POST /v1/webhooks/{gateway} itself: no operator key, the sandbox's notifications, unknown gateways, and
concurrent deliveries of one payment."""

from __future__ import annotations

import asyncio

from tests.factories import customer_id, expect_error
from tests.topups.support import (
    available,
    deliver,
    inbox,
    open_topup,
    outcomes,
    sandbox_notification,
    topup,
    topup_grants,
)


async def test_the_sandbox_pay_notification_credits_once(app, client, gateway_client) -> None:
    customer = await customer_id(client, currency="INR")
    opened = await open_topup(client, customer, "sandbox", amount="2000", currency="INR")
    paid = sandbox_notification(app, opened)
    assert outcomes(await deliver(gateway_client, "sandbox", paid)) == ["credited"]
    assert outcomes(await deliver(gateway_client, "sandbox", paid)) == ["duplicate"]
    assert await available(client, customer, "INR") == "2400.00"
    assert await inbox(app, "sandbox") == [("payment.paid", "credited")]


async def test_a_sandbox_failure_then_payment_is_credited(app, client, gateway_client) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    assert outcomes(await deliver(gateway_client, "sandbox", sandbox_notification(app, opened, "failed"))) == ["moved"]
    assert (await topup(client, opened["id"]))["status"] == "failed"
    assert outcomes(await deliver(gateway_client, "sandbox", sandbox_notification(app, opened))) == ["credited"]
    assert await available(client, customer, "USD") == "10.00"


async def test_a_sandbox_notification_signed_by_another_server_is_refused(app, client, gateway_client) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    paid = sandbox_notification(app, opened)
    forged = paid.headers | {"Creditflow-Sandbox-Signature": "t=1772442000,v1=" + "0" * 64}
    expect_error(await gateway_client.post("/v1/webhooks/sandbox", content=paid.body, headers=forged), 400,
                 "invalid_signature")
    assert await inbox(app, "sandbox") == []


async def test_webhooks_need_no_operator_key_and_only_known_gateways(gateway_client) -> None:
    response = await gateway_client.post("/v1/webhooks/paypal", content=b"{}")
    expect_error(response, 404, "not_found")
    expect_error(await gateway_client.post("/v1/webhooks/stripe", content=b"{}"), 400, "invalid_signature")


async def test_concurrent_deliveries_of_one_payment_credit_once(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "stripe", amount="12.50", currency="USD")
    completed, succeeded = fakes.stripe.pay(opened["gateway_reference"])
    answers = await asyncio.gather(*(deliver(gateway_client, "stripe", n) for n in (completed, succeeded) * 3))
    # Each delivery either applied, found its twin, or lost a race and asked to be retried (503).
    assert {a.status_code for a in answers} <= {200, 503}
    for notification in (completed, succeeded):
        assert (await deliver(gateway_client, "stripe", notification)).status_code == 200
    assert await available(client, customer, "USD") == "12.50"
    assert len(await topup_grants(client, customer)) == 1
