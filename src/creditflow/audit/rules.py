"""Which operator API routes are audited, under which action, and how each resource is read for its before and
after. The spend path (debits, holds, events, authorize, key verification) is deliberately absent: its
operations record their actor in the ledger, and it is the high-volume path.

Loaders call the resource's own GET endpoint function (a Python call, never HTTP), so the log shows fields
exactly as the API does.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from pydantic import BaseModel

from creditflow import money
from creditflow.audit.recording import AuditRule, AuditRules, Loader
from creditflow.auto_topups.endpoints import get_auto_topup
from creditflow.balance_alerts.endpoints import get_low_balance_alert
from creditflow.budgets.endpoints import get_budget
from creditflow.customers import service as customers_service
from creditflow.customers.endpoints import get_customer
from creditflow.db.tx import Tx
from creditflow.grants.endpoints import get_grant
from creditflow.invoices.endpoints import get_invoice
from creditflow.metering.endpoints import get_metric, get_price
from creditflow.subscriptions.endpoints import get_plan, get_subscription
from creditflow.topups.endpoints import get_package
from creditflow.wallets import service as wallets_service
from creditflow.wallets.schemas import WalletOut
from creditflow.webhooks.endpoints import get_webhook_endpoint


def _reader(endpoint: Callable[..., Awaitable[BaseModel]], *params: str) -> Loader:
    async def load(tx: Tx, path: Mapping[str, str]) -> dict[str, Any] | None:
        if "currency" in params and _unit(path["currency"]) is None:
            return None
        values = {name: _unit(path[name]) if name == "currency" else path[name] for name in params}
        return (await endpoint(**values, tx=tx)).model_dump(mode="json")

    return load


def _unit(currency: str) -> str | None:
    """The path's unit; None when it is not one: there is nothing to read, and the endpoint answers 4xx itself."""
    try:
        return money.normalize_unit(currency)
    except money.MoneyError:
        return None


async def _wallet(tx: Tx, path: Mapping[str, str]) -> dict[str, Any] | None:
    unit = _unit(path["currency"])
    if unit is None:
        return None
    # As GET /v1/customers/{customer}/wallets shows it, without that list's paging.
    customer = await customers_service.get_customer(tx, path["customer"])
    views = await wallets_service.customer_wallets(tx, customer.id)
    found = [WalletOut.of_view(v) for v in views if v.state.unit == unit]
    return found[0].model_dump(mode="json") if found else None


CUSTOMER = _reader(get_customer, "customer")
GRANT = _reader(get_grant, "grant_id")
METRIC = _reader(get_metric, "metric")
PRICE = _reader(get_price, "price_id")
INVOICE = _reader(get_invoice, "invoice_id")
BUDGET = _reader(get_budget, "budget_id")
PACKAGE = _reader(get_package, "package_id")
PLAN = _reader(get_plan, "plan")
SUBSCRIPTION = _reader(get_subscription, "subscription_id")
LOW_BALANCE = _reader(get_low_balance_alert, "customer", "currency")
AUTO_TOPUP = _reader(get_auto_topup, "customer", "currency")
WEBHOOK_ENDPOINT = _reader(get_webhook_endpoint, "endpoint_id")

_WALLET_SETTING = "/v1/customers/{customer}/wallets/{currency}"

AUDIT_RULES: AuditRules = {
    ("POST", "/v1/customers"): AuditRule("customer.create", "customer"),
    ("PATCH", "/v1/customers/{customer}"): AuditRule("customer.update", "customer", ("customer",), CUSTOMER),
    ("POST", "/v1/customers/{customer}/wallets"): AuditRule("wallet.create", "wallet"),
    ("PATCH", _WALLET_SETTING): AuditRule("wallet.update", "wallet", ("customer", "currency"), _wallet),
    ("PUT", f"{_WALLET_SETTING}/low_balance"): AuditRule(
        "low_balance_alert.set", "low_balance_alert", ("customer", "currency"), LOW_BALANCE),
    ("DELETE", f"{_WALLET_SETTING}/low_balance"): AuditRule(
        "low_balance_alert.delete", "low_balance_alert", ("customer", "currency"), LOW_BALANCE),
    ("PUT", f"{_WALLET_SETTING}/auto_topup"): AuditRule(
        "auto_topup.set", "auto_topup", ("customer", "currency"), AUTO_TOPUP),
    ("DELETE", f"{_WALLET_SETTING}/auto_topup"): AuditRule(
        "auto_topup.delete", "auto_topup", ("customer", "currency"), AUTO_TOPUP),
    ("POST", "/v1/credit_grants"): AuditRule("credit_grant.create", "credit_grant"),
    ("POST", "/v1/credit_grants/{grant_id}/void"): AuditRule("credit_grant.void", "credit_grant", ("grant_id",), GRANT),
    ("POST", "/v1/debits/{debit_id}/refund"): AuditRule("debit.refund", "debit", ("debit_id",)),
    ("POST", "/v1/events/{event_id}/refund"): AuditRule("event.refund", "event", ("event_id",)),
    ("POST", "/v1/invoices/{invoice_id}/void"): AuditRule("invoice.void", "invoice", ("invoice_id",), INVOICE),
    ("POST", "/v1/metrics"): AuditRule("metric.create", "metric"),
    ("POST", "/v1/metrics/{metric}/archive"): AuditRule("metric.archive", "metric", ("metric",), METRIC),
    ("POST", "/v1/prices"): AuditRule("price.create", "price"),
    ("POST", "/v1/prices/{price_id}/archive"): AuditRule("price.archive", "price", ("price_id",), PRICE),
    ("POST", "/v1/packages"): AuditRule("package.create", "package"),
    ("POST", "/v1/packages/{package_id}/archive"): AuditRule("package.archive", "package", ("package_id",), PACKAGE),
    ("POST", "/v1/plans"): AuditRule("plan.create", "plan"),
    ("POST", "/v1/plans/{plan}/archive"): AuditRule("plan.archive", "plan", ("plan",), PLAN),
    ("POST", "/v1/subscriptions"): AuditRule("subscription.create", "subscription"),
    ("POST", "/v1/subscriptions/{subscription_id}/cancel"): AuditRule(
        "subscription.cancel", "subscription", ("subscription_id",), SUBSCRIPTION),
    ("POST", "/v1/subscriptions/{subscription_id}/change"): AuditRule(
        "subscription.change", "subscription", ("subscription_id",), SUBSCRIPTION),
    ("POST", "/v1/budgets"): AuditRule("budget.create", "budget"),
    ("PATCH", "/v1/budgets/{budget_id}"): AuditRule("budget.update", "budget", ("budget_id",), BUDGET),
    ("POST", "/v1/budgets/{budget_id}/archive"): AuditRule("budget.archive", "budget", ("budget_id",), BUDGET),
    ("POST", "/v1/customers/{customer}/api_keys"): AuditRule("customer_api_key.create", "customer_api_key"),
    ("POST", "/v1/customers/{customer}/api_keys/{api_key_id}/revoke"): AuditRule(
        "customer_api_key.revoke", "customer_api_key", ("api_key_id",)),
    ("POST", "/v1/customers/{customer}/payment_methods/{payment_method_id}/default"): AuditRule(
        "payment_method.make_default", "payment_method", ("payment_method_id",)),
    ("POST", "/v1/webhook_endpoints"): AuditRule("webhook_endpoint.create", "webhook_endpoint"),
    ("PATCH", "/v1/webhook_endpoints/{endpoint_id}"): AuditRule(
        "webhook_endpoint.update", "webhook_endpoint", ("endpoint_id",), WEBHOOK_ENDPOINT),
    ("POST", "/v1/webhook_endpoints/{endpoint_id}/rotate_secret"): AuditRule(
        "webhook_endpoint.rotate_secret", "webhook_endpoint", ("endpoint_id",), WEBHOOK_ENDPOINT),
    ("DELETE", "/v1/webhook_endpoints/{endpoint_id}"): AuditRule(
        "webhook_endpoint.delete", "webhook_endpoint", ("endpoint_id",), WEBHOOK_ENDPOINT),
    ("POST", "/v1/webhook_events/{event_id}/resend"): AuditRule("webhook_event.resend", "webhook_event", ("event_id",)),
}
