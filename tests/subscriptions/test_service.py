"""POST /v1/subscriptions, cancel and change: the first period charged from paid credits at once (or after
the trial), included credits granted, an invoice paid from the balance; plan changes prorated to the second."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from creditflow.db.tx import Tx
from creditflow.invoices.models import Issuer
from creditflow.subscriptions.service import create_subscription
from tests.factories import customer_id, expect_error, grant, ok, wallet
from tests.subscriptions.support import available, invoices_of, make_plan, subscribe, subscription

JAN_1 = datetime(2026, 1, 1, tzinfo=UTC)


async def test_subscribing_charges_the_first_month_and_issues_a_paid_invoice(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "100000")
    await make_plan(client, "n8n", "25000")
    created = ok(await subscribe(client, customer, "n8n"), 201)
    assert (created["status"], created["current_period_start"], created["current_period_end"]) == (
        "active", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
    )
    assert await available(client, customer) == "75000.00"
    [invoice] = await invoices_of(client, customer)
    assert (invoice["status"], invoice["total"], invoice["tax"], invoice["paid_via"]) == (
        "paid", "25000.00", "0.00", "balance"
    )
    assert invoice["lines"][0]["description"] == "N8N: 2026-01-01 to 2026-02-01"


async def test_a_short_balance_answers_402_and_creates_nothing(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "20000")
    await make_plan(client, "ghost", "35000")
    expect_error(await subscribe(client, customer, "ghost"), 402, "insufficient_funds")
    assert ok(await client.get("/v1/subscriptions", params={"customer": customer}))["data"] == []
    assert await invoices_of(client, customer) == []
    assert await available(client, customer) == "20000.00"


async def test_promotional_credits_never_pay_for_a_plan_unless_it_says_so(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "10000")
    await grant(client, customer, "50000", category="promotional")
    await make_plan(client, "wordpress", "30000")
    response = await subscribe(client, customer, "wordpress")
    assert "promotional and included credits never pay" in expect_error(response, 402, "insufficient_funds")["message"]
    await make_plan(client, "wordpress-any", "30000", paid_credits_only=False)
    ok(await subscribe(client, customer, "wordpress-any"), 201)
    assert await available(client, customer) == "30000.00"


async def test_included_credits_expire_at_period_end_unless_they_roll_over(client) -> None:
    customer = await customer_id(client, currency="USD")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    await grant(client, customer, "50")
    await make_plan(client, "api", "20", currency="USD", included_credits={"amount": "1000", "currency": "CREDITS"})
    await make_plan(client, "api-keep", "20", currency="USD",
                    included_credits={"amount": "500", "currency": "CREDITS", "rollover": True})
    ok(await subscribe(client, customer, "api"), 201)
    ok(await subscribe(client, customer, "api-keep"), 201)
    lots = (await wallet(client, customer, "CREDITS"))["lots"]
    assert sorted((lot["remaining"], lot["category"], lot["expires_at"]) for lot in lots) == [
        ("1000", "promotional", "2026-02-01T00:00:00Z"), ("500", "promotional", None)
    ]
    assert await available(client, customer, "USD") == "10.00"


async def test_a_trial_charges_nothing_until_it_ends(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await make_plan(client, "trial", "25000", trial_days=14)
    created = ok(await subscribe(client, customer, "trial"), 201)
    assert (created["status"], created["trial_end"], created["current_period_end"]) == (
        "trialing", "2026-01-15T00:00:00Z", "2026-01-15T00:00:00Z"
    )
    assert await invoices_of(client, customer) == []


async def test_subscribing_needs_a_wallet_in_the_plans_currency_and_a_sensible_start(client) -> None:
    customer = await customer_id(client, currency="USD")
    await make_plan(client, "idr-plan", "25000")
    expect_error(await subscribe(client, customer, "idr-plan"), 422, "wallet_not_found")
    await make_plan(client, "usd-plan", "5", currency="USD")
    await grant(client, customer, "100")
    response = await subscribe(client, customer, "usd-plan", start_at="2026-01-02T00:00:00Z")
    assert expect_error(response, 422, "invalid_request")["param"] == "start_at"
    response = await subscribe(client, customer, "usd-plan", start_at="2025-11-01T00:00:00Z")
    assert expect_error(response, 422, "invalid_request")["param"] == "start_at"
    expect_error(await subscribe(client, customer, "nope"), 404, "not_found")
    expect_error(await subscribe(client, "cus_missing", "usd-plan"), 404, "not_found")
    backdated = ok(await subscribe(client, customer, "usd-plan", start_at="2025-12-15T00:00:00Z"), 201)
    assert backdated["current_period_end"] == "2026-01-15T00:00:00Z"


async def test_cancel_at_period_end_or_now(client) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "100000")
    await make_plan(client, "n8n", "25000")
    later = ok(await subscribe(client, customer, "n8n"), 201)
    now = ok(await subscribe(client, customer, "n8n"), 201)
    marked = ok(await client.post(f"/v1/subscriptions/{later['id']}/cancel", json={"at_period_end": True}))
    assert (marked["status"], marked["cancel_at_period_end"]) == ("active", True)
    ended = ok(await client.post(f"/v1/subscriptions/{now['id']}/cancel", json={"at_period_end": False}))
    assert (ended["status"], ended["canceled_at"]) == ("canceled", "2026-01-01T00:00:00Z")
    expect_error(await client.post(f"/v1/subscriptions/{now['id']}/cancel"), 409, "subscription_not_active")
    expect_error(await client.post("/v1/subscriptions/sub_missing/cancel"), 404, "not_found")


async def test_an_upgrade_credits_the_unused_share_and_charges_the_new_plans_share(client, clock) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "100000")
    await make_plan(client, "small", "31000")
    await make_plan(client, "large", "62000")
    created = ok(await subscribe(client, customer, "small"), 201)
    clock.advance(days=21)  # 10 of January's 31 days are left
    changed = ok(await client.post(f"/v1/subscriptions/{created['id']}/change", json={"plan": "large"}))
    large = ok(await client.get("/v1/plans/large"))
    assert (changed["plan"], changed["current_period_end"]) == (large["id"], "2026-02-01T00:00:00Z")
    upgrade = (await invoices_of(client, customer))[-1]
    assert [(line["description"], line["amount"]) for line in upgrade["lines"]] == [
        ("Large: rest of the period to 2026-02-01", "20000.00"), ("Unused time on Small", "-10000.00")
    ]
    assert upgrade["total"] == "10000.00"
    assert await available(client, customer) == "59000.00"


async def test_a_downgrade_waits_for_the_period_end_and_a_short_upgrade_changes_nothing(client, clock) -> None:
    customer = await customer_id(client, currency="IDR")
    await grant(client, customer, "40000")
    await make_plan(client, "large", "31000")
    await make_plan(client, "small", "15500")
    await make_plan(client, "huge", "310000")
    created = ok(await subscribe(client, customer, "large"), 201)
    down = ok(await client.post(f"/v1/subscriptions/{created['id']}/change", json={"plan": "small"}))
    small = ok(await client.get("/v1/plans/small"))
    assert (down["plan"], down["next_plan"]) == (created["plan"], small["id"])
    clock.advance(days=1)
    expect_error(await client.post(f"/v1/subscriptions/{created['id']}/change", json={"plan": "huge"}), 402,
                 "insufficient_funds")
    assert (await subscription(client, created["id"]))["next_plan"] == small["id"]
    assert await available(client, customer) == "9000.00"
    await make_plan(client, "weekly", "1000", interval="week")
    response = await client.post(f"/v1/subscriptions/{created['id']}/change", json={"plan": "weekly"})
    assert expect_error(response, 422, "invalid_request")["param"] == "plan"


async def test_with_a_grace_period_a_short_balance_starts_the_subscription_past_due(client, app) -> None:
    customer = await customer_id(client, currency="IDR")
    await make_plan(client, "n8n", "25000")
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=JAN_1, actor="test")
        created = await create_subscription(
            tx, customer=customer, plan="n8n", start_at=None, issuer=Issuer.from_settings(app.state.settings),
            grace=timedelta(days=3),
        )
    assert (created.status, created.past_due_since) == ("past_due", JAN_1)
    shown = await subscription(client, created.id)
    assert (shown["status"], shown["past_due_since"]) == ("past_due", "2026-01-01T00:00:00Z")
    assert await available(client, customer) == "0.00"
    assert await invoices_of(client, customer) == []
