"""D1 (issue 11): a gateway-confirmed top-up that would pass the wallet's largest balance is flagged for a
person and answered 200, so the gateway does not retry it forever; nothing is credited."""

from __future__ import annotations

from tests.factories import customer_id, grant
from tests.topups.support import available, deliver, open_topup, outcomes, sandbox_notification, topup


async def test_d1_a_paid_topup_past_the_largest_balance_is_flagged_and_answered_200(app, client, gateway_client):
    customer = await customer_id(client, currency="USD")
    opened = await open_topup(client, customer, "sandbox", amount="10", currency="USD")
    for amount in ("1000000000000", "1000000000000", "1000000000000", "999999999995"):
        await grant(client, customer, amount)
    paid = sandbox_notification(app, opened)
    # The gateway's retry of the same notification is answered from its inbox row, again with a 200.
    for expected in ("flagged", "duplicate"):
        response = await deliver(gateway_client, "sandbox", paid)
        assert response.status_code == 200, response.text
        assert outcomes(response) == [expected]
    found = await topup(client, opened["id"])
    assert found["needs_review"] is True
    assert "largest balance" in found["review_reason"]
    assert found["status"] == "pending"
    assert await available(client, customer, "USD") == "3999999999995.00"
