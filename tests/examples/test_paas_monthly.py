"""examples/paas_monthly against a real `creditflow serve`: a sandbox top-up, three plans, a renewal by its runner."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from creditflow_client import Creditflow, InsufficientFunds
from examples.paas_monthly.paas import balance, set_up_plans, top_up, wait_for
from tests.served import Served


def test_a_sandbox_top_up_pays_three_monthly_plans_and_a_fourth_is_refused_when_short(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        plans = set_up_plans(cf)
        assert set_up_plans(cf) == plans  # run again: the same plans
        customer = cf.customers.create(external_id=f"ayu-{uuid.uuid4().hex[:6]}", currency="IDR").id
        topup = top_up(cf, customer, Decimal(100_000), pay=True)
        assert (topup.status, topup.total) == ("paid", Decimal("111000"))
        assert balance(cf, customer) == Decimal(100_000)

        for app in ("n8n", "ghost", "wordpress"):
            assert cf.subscriptions.create(customer=customer, plan=plans[app]).status == "active"
        assert balance(cf, customer) == Decimal(10_000)
        paid = [i for i in cf.invoices.list(customer=customer) if i.status == "paid"]
        assert sorted(i.total for i in paid) == [Decimal(25_000), Decimal(30_000), Decimal(35_000), Decimal(111_000)]

        with pytest.raises(InsufficientFunds):
            cf.subscriptions.create(customer=customer, plan=plans["ghost"])
        assert balance(cf, customer) == Decimal(10_000)


def test_the_job_runner_renews_a_subscription_from_the_balance_at_its_period_end(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        # A one-day trial that began a day ago, less 3 seconds: its period ends in 3 s, and the runner
        # (every second on this server) charges the first month then, as it renews any period.
        plans = set_up_plans(cf, prefix="trial-", trial_days=1)
        customer = cf.customers.create(external_id=f"budi-{uuid.uuid4().hex[:6]}", currency="IDR").id
        top_up(cf, customer, Decimal(60_000), pay=True)
        started = datetime.now(UTC) - timedelta(days=1) + timedelta(seconds=3)
        subscription = cf.subscriptions.create(customer=customer, plan=plans["n8n"], start_at=started)
        assert (subscription.status, balance(cf, customer)) == ("trialing", Decimal(60_000))

        renewed = wait_for(lambda: cf.subscriptions.retrieve(subscription.id), lambda s: s.status == "active",
                           "the renewal")
        assert renewed.current_period_start == subscription.current_period_end
        assert balance(cf, customer) == Decimal(35_000)
