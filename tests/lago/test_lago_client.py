"""lago-python-client 1.55.0, unchanged from PyPI, against a served creditflow: the flow a Lago integration runs,
every figure checked exactly."""

from __future__ import annotations

import pytest
from lago_python_client.client import Client
from lago_python_client.exceptions import LagoApiError
from lago_python_client.models import (
    BatchEvent,
    BillableMetric,
    Charge,
    Customer,
    Event,
    Plan,
    Subscription,
    Wallet,
    WalletTransaction,
)
from lago_python_client.models.charge import Charges
from lago_python_client.models.invoice import InvoicePaymentStatusChange

from tests.lago.conftest import Served


def _event(transaction_id: str, tokens: int) -> Event:
    return Event(transaction_id=transaction_id, external_subscription_id="sub-acme", code="tokens",
                 properties={"tokens": tokens})


def _balance(lago: Client, wallet_id: str) -> tuple[int, int, str, int]:
    wallet = lago.wallets.find(wallet_id)
    return (wallet.balance_cents, wallet.ongoing_balance_cents, wallet.credits_ongoing_balance,
            wallet.ongoing_usage_balance_cents)


def test_a_lago_integration_runs_unchanged_against_creditflow(served: Served) -> None:
    lago = Client(api_key=served.operator_key, api_url=served.url)

    customer = lago.customers.create(Customer(external_id="acme", name="Acme", currency="USD", email="a@acme.test"))
    assert (customer.external_id, customer.currency, customer.applicable_timezone) == ("acme", "USD", "UTC")
    again = lago.customers.create(Customer(external_id="acme", name="Acme Inc"))
    assert (again.lago_id, again.name) == (customer.lago_id, "Acme Inc")

    metric = lago.billable_metrics.create(
        BillableMetric(name="Tokens", code="tokens", aggregation_type="sum_agg", field_name="tokens")
    )
    assert (metric.code, metric.aggregation_type, metric.field_name) == ("tokens", "sum_agg", "tokens")
    plan = lago.plans.create(Plan(
        name="Pro", code="pro", interval="monthly", amount_cents=0, amount_currency="USD",
        charges=Charges(__root__=[Charge(billable_metric_id=metric.lago_id, charge_model="standard",
                                         properties={"amount": "0.01"})]),
    ))
    assert (plan.code, plan.interval, plan.amount_cents) == ("pro", "monthly", 0)
    assert [(c.charge_model, c.properties) for c in plan.charges.__root__] == [("standard", {"amount": "0.01"})]
    subscription = lago.subscriptions.create(
        Subscription(external_customer_id="acme", plan_code="pro", external_id="sub-acme")
    )
    assert (subscription.external_id, subscription.status, subscription.plan_code) == ("sub-acme", "active", "pro")

    wallet = lago.wallets.create(
        Wallet(external_customer_id="acme", rate_amount="1", currency="USD", name="Prepaid", granted_credits="10.0")
    )
    assert (wallet.balance_cents, wallet.credits_balance, wallet.rate_amount) == (1000, "10.0", "1.0")

    # The ongoing balance is exact after every event: 1 cent a token.
    assert lago.events.create(_event("e-1", 150)).transaction_id == "e-1"
    assert _balance(lago, wallet.lago_id) == (850, 850, "8.5", 0)
    lago.events.batch_create(BatchEvent(events=[_event("e-2", 200), _event("e-3", 50)]))
    assert _balance(lago, wallet.lago_id) == (600, 600, "6.0", 0)
    with pytest.raises(LagoApiError) as duplicate:
        lago.events.create(_event("e-1", 150))
    assert duplicate.value.status_code == 422
    assert duplicate.value.response["error_details"] == {"transaction_id": ["value_already_exist"]}
    assert _balance(lago, wallet.lago_id) == (600, 600, "6.0", 0)
    assert lago.events.find("e-2").external_subscription_id == "sub-acme"

    usage = lago.customers.current_usage("acme", "sub-acme")
    assert (usage.amount_cents, usage.total_amount_cents, usage.currency) == (400, 400, "USD")
    (fee,) = usage.charges_usage
    assert (fee.units, fee.events_count, fee.amount_cents, fee.billable_metric.code) == ("400", 3, 400, "tokens")

    # A paid top-up waits on its invoice, and is credited once, when that invoice is paid.
    (pending,) = lago.wallet_transactions.create(WalletTransaction(wallet_id=wallet.lago_id, paid_credits="20.0"))[
        "wallet_transactions"
    ]
    assert (pending.status, pending.transaction_status, pending.credit_amount, pending.amount) == (
        "pending", "purchased", "20.0", "20.00"
    )
    assert _balance(lago, wallet.lago_id) == (600, 600, "6.0", 0)
    invoice = lago.invoices.find(pending.lago_invoice_id)
    assert (invoice.invoice_type, invoice.payment_status, invoice.total_amount_cents) == ("credit", "pending", 2000)
    paid = lago.invoices.update(InvoicePaymentStatusChange(payment_status="succeeded"), pending.lago_invoice_id)
    assert (paid.payment_status, paid.total_amount_cents, paid.total_due_amount_cents) == ("succeeded", 2000, 0)
    assert _balance(lago, wallet.lago_id) == (2600, 2600, "26.0", 0)
    with pytest.raises(LagoApiError) as final:
        lago.invoices.update(InvoicePaymentStatusChange(payment_status="succeeded"), pending.lago_invoice_id)
    assert final.value.status_code == 422
    assert _balance(lago, wallet.lago_id) == (2600, 2600, "26.0", 0)

    # Lago's behaviour past zero: the wallet pays what it has, the rest is due.
    lago.events.create(_event("e-4", 3000))
    assert _balance(lago, wallet.lago_id) == (0, -400, "-4.0", 400)
    assert lago.customers.current_usage("acme", "sub-acme").amount_cents == 3400

    listed = lago.wallet_transactions.find_all(wallet.lago_id)
    assert [(t.transaction_status, t.status, t.credit_amount) for t in listed["wallet_transactions"]] == [
        ("granted", "settled", "10.0"), ("purchased", "settled", "20.0"),
    ]
    assert listed["meta"]["total_count"] == 2

    with pytest.raises(LagoApiError) as missing:
        lago.customers.find("nobody")
    assert missing.value.status_code == 404
    assert missing.value.response["code"] == "customer_not_found"
    assert served.ledger_problems() == []
