"""The schema, as SQLAlchemy Core tables, one module per domain. Migrations build it; these definitions
are what queries use.

Core rather than ORM: the money path is a handful of explicit statements, and an identity map would
only add work per operation. A test compares these tables with the migrated schema.
"""

from creditflow.db.tables.access import (
    customer_api_keys,
    idempotency_keys,
    operator_keys,
)
from creditflow.db.tables.audit import audit_events
from creditflow.db.tables.auto_topups import auto_topup_attempts, auto_topups
from creditflow.db.tables.base import ID, metadata
from creditflow.db.tables.billing import usage_closes
from creditflow.db.tables.budgets import alerts, budget_resets, budget_usage, budgets, hold_budgets
from creditflow.db.tables.console import console_users
from creditflow.db.tables.coupons import coupon_redemptions, coupons
from creditflow.db.tables.invoices import invoice_counters, invoice_lines, invoice_tax_lines, invoices
from creditflow.db.tables.jobs import customer_daily_rollups, daily_reports, job_runs, report_buckets
from creditflow.db.tables.lago import lago_subscriptions, lago_wallet_transactions, lago_wallets
from creditflow.db.tables.ledger import (
    accounts,
    credit_grants,
    customers,
    hold_allocations,
    holds,
    operations,
    transfers,
    wallets,
)
from creditflow.db.tables.metering import (
    events,
    metrics,
    prices,
    usage_aggregates,
)
from creditflow.db.tables.notifications import balance_alerts, email_outbox
from creditflow.db.tables.payment_methods import payment_methods
from creditflow.db.tables.portal import portal_tokens, portal_users, web_sessions
from creditflow.db.tables.subscriptions import plans, subscription_charges, subscriptions
from creditflow.db.tables.topups import topup_credits, topup_packages, topup_refunds, topups, webhook_inbox
from creditflow.db.tables.webhooks import (
    webhook_attempts,
    webhook_deliveries,
    webhook_endpoint_events,
    webhook_endpoints,
    webhook_events,
)

__all__ = [
    "ID",
    "accounts",
    "alerts",
    "audit_events",
    "auto_topup_attempts",
    "auto_topups",
    "balance_alerts",
    "budget_resets",
    "budget_usage",
    "budgets",
    "console_users",
    "coupon_redemptions",
    "coupons",
    "credit_grants",
    "customer_api_keys",
    "customer_daily_rollups",
    "customers",
    "daily_reports",
    "email_outbox",
    "events",
    "hold_allocations",
    "hold_budgets",
    "holds",
    "idempotency_keys",
    "invoice_counters",
    "invoice_lines",
    "invoice_tax_lines",
    "invoices",
    "job_runs",
    "lago_subscriptions",
    "lago_wallet_transactions",
    "lago_wallets",
    "metadata",
    "metrics",
    "operations",
    "operator_keys",
    "payment_methods",
    "plans",
    "portal_tokens",
    "portal_users",
    "prices",
    "report_buckets",
    "subscription_charges",
    "subscriptions",
    "topup_credits",
    "topup_packages",
    "topup_refunds",
    "topups",
    "transfers",
    "usage_aggregates",
    "usage_closes",
    "wallets",
    "web_sessions",
    "webhook_attempts",
    "webhook_deliveries",
    "webhook_endpoint_events",
    "webhook_endpoints",
    "webhook_events",
    "webhook_inbox",
]
