"""The operator resources added with the server's audit log, exports, summary report, portal sessions and secret
rotation, against a real `creditflow serve`."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal

import pytest

from creditflow_client import AsyncCreditflow, Conflict, Creditflow, InvalidRequest, NotFound
from tests.served import Served


def test_audit_events_page_through_a_customers_changes_newest_first(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"audit-{uuid.uuid4().hex[:8]}")
        for name in ("one", "two", "three"):
            cf.customers.update(customer.id, name=name)
        # limit=2 forces the iterator to follow `starting_after` across pages.
        events = list(cf.audit_events.list(resource=customer.id, limit=2))
        assert [e.action for e in events] == ["customer.update"] * 3 + ["customer.create"]
        assert events[0].changes["name"] == {"before": "two", "after": "three"}
        assert len({e.id for e in events}) == 4


def test_a_csv_export_streams_the_whole_list(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"csv-{uuid.uuid4().hex[:8]}", name="Csv, Inc.")
        chunks = list(cf.exports.customers())
        assert all(isinstance(chunk, bytes) for chunk in chunks)
        rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode())))
        [row] = [r for r in rows if r["id"] == customer.id]
        assert row["name"] == "Csv, Inc."
        assert b"".join(cf.exports.invoices(customer=customer.id)).decode().count("\n") == 1  # the header only
        with pytest.raises(NotFound):
            list(cf.exports.transactions(customer="cus_missing"))


async def test_the_async_client_streams_an_export_and_reads_the_summary(served: Served) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        customer = await cf.customers.create(external_id=f"acsv-{uuid.uuid4().hex[:8]}")
        body = b"".join([chunk async for chunk in cf.exports.customers()])
        assert customer.id.encode() in body
        summary = await cf.reports.summary(group_by="month")
        assert summary.object == "report_summary" and summary.group_by == "month"
        with pytest.raises(InvalidRequest):
            await cf.reports.summary(group_by="decade")


def test_a_portal_session_is_a_single_use_link_for_that_customer(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"ps-{uuid.uuid4().hex[:8]}")
        session = cf.portal_sessions.create(customer.id, expires_in=600)
        assert session.object == "portal_session" and session.url.startswith(served.base_url)
        assert session.expires_at
        with pytest.raises(NotFound):
            cf.portal_sessions.create("cus_missing")


def test_rotating_a_webhook_secret_answers_the_new_one(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        endpoint = cf.webhook_endpoints.create(url="https://example.com/hooks", events=["customer.created"])
        rotated = cf.webhook_endpoints.rotate_secret(endpoint.id)
        assert rotated.id == endpoint.id
        assert rotated.secret.startswith("whsec_") and rotated.secret != endpoint.secret
        cf.webhook_endpoints.delete(endpoint.id)


def test_coupons_are_created_previewed_listed_and_archived(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"cp-{uuid.uuid4().hex[:8]}", currency="USD")
        code = f"TEN{uuid.uuid4().hex[:6].upper()}"
        coupon = cf.coupons.create(code=code, kind="percent_off", value="10")
        assert cf.coupons.retrieve(code).id == coupon.id
        preview = cf.coupons.preview(code, customer=customer.id, amount="20.00", currency="USD")
        assert preview.coupon == code and preview.discount == Decimal("2.00") and preview.amount == Decimal("20.00")
        assert coupon.id in [c.id for c in cf.coupons.list()]
        assert list(cf.coupons.redemptions(coupon.id)) == []
        assert cf.coupons.archive(coupon.id).status == "archived"


def test_a_budget_reset_starts_a_new_period_and_a_subscription_reports_its_usage(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"br-{uuid.uuid4().hex[:8]}", currency="USD")
        budget = cf.budgets.create(customer=customer.id, amount="5.00", period="month", action="block")
        assert cf.budgets.reset(budget.id).reset_at is not None
        plan = cf.plans.create(code=f"p-{uuid.uuid4().hex[:8]}", name="Pro", interval="month",
                               price={"amount": "0", "currency": "USD"})
        subscription = cf.subscriptions.create(customer=customer.id, plan=plan.id)
        assert cf.subscriptions.usage(subscription.id).object


def test_a_statement_before_its_month_ends_is_not_ready(served: Served) -> None:
    with Creditflow(served.operator_key, served.base_url) as cf:
        customer = cf.customers.create(external_id=f"st-{uuid.uuid4().hex[:8]}")
        with pytest.raises(Conflict) as refused:
            cf.statements.retrieve(customer.id, "2999-01")
        assert refused.value.code == "statement_not_ready"
        with pytest.raises(Conflict):
            cf.statements.pdf(customer.id, "2999-01")
