"""creditflow's objects rendered as Lago's JSON: every field lago-python-client 1.55 requires, and the
common optional ones, with Lago's names and cents."""

from __future__ import annotations

from typing import Any

from creditflow.customers.service import Customer
from creditflow.invoices.models import DRAFT, PAID, VOID, Invoice
from creditflow.lago.convert import cents, iso, price_to_charge
from creditflow.metering.metrics import Metric
from creditflow.metering.prices import Price
from creditflow.subscriptions.models import CANCELED, Plan, Subscription

_AGGREGATION_TYPES = {"count": "count_agg", "sum": "sum_agg", "max": "max_agg", "unique_count": "unique_count_agg",
                      "latest": "latest_agg"}
_INTERVALS = {"week": "weekly", "month": "monthly", "year": "yearly"}


def page_meta(page: int, per_page: int, total: int) -> dict[str, Any]:
    pages = max((total + per_page - 1) // per_page, 1) if total else 0
    return {
        "current_page": page, "next_page": page + 1 if page < pages else None,
        "prev_page": page - 1 if page > 1 else None, "total_pages": pages, "total_count": total,
    }


def customer(found: Customer) -> dict[str, Any]:
    return {
        "lago_id": found.id, "external_id": found.external_id, "name": found.name, "email": found.email,
        "currency": found.currency, "timezone": found.timezone, "applicable_timezone": found.timezone,
        "created_at": iso(found.created_at), "updated_at": iso(found.updated_at),
        "metadata": [
            {"lago_id": f"{found.id}:{key}", "key": key, "value": value, "display_in_invoice": False,
             "created_at": iso(found.created_at)}
            for key, value in found.metadata.items()
        ],
        "billing_configuration": {}, "net_payment_term": None, "sequential_id": None, "slug": None,
    }


def metric(found: Metric) -> dict[str, Any]:
    return {
        "lago_id": found.id, "name": found.name, "code": found.code, "description": None,
        "aggregation_type": _AGGREGATION_TYPES[found.aggregation], "field_name": found.field,
        "recurring": False, "weighted_interval": None, "expression": None, "filters": [],
        "created_at": iso(found.created_at),
    }


def charge(price: Price, metric_code: str) -> dict[str, Any]:
    return {
        "lago_id": price.id, "lago_billable_metric_id": price.metric_id, "billable_metric_code": metric_code,
        "charge_model": price.model, "pay_in_advance": False, "invoiceable": True, "prorated": False,
        "invoice_display_name": None, "min_amount_cents": 0,
        "properties": price_to_charge(price.model, price.properties), "filters": [], "taxes": [],
        "created_at": iso(price.created_at),
    }


def plan(found: Plan, charges: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "lago_id": found.id, "name": found.name, "code": found.code, "description": None,
        "interval": _INTERVALS.get(found.interval, found.interval), "amount_cents": cents(found.amount, found.currency),
        "amount_currency": found.currency, "trial_period": float(found.trial_days), "pay_in_advance": True,
        "bill_charges_monthly": None, "active_subscriptions_count": 0, "draft_invoices_count": 0,
        "charges": charges, "taxes": [], "created_at": iso(found.created_at),
    }


def subscription(found: Subscription, external_id: str, external_customer_id: str, plan_code: str,
                 name: str | None) -> dict[str, Any]:
    terminated = found.status == CANCELED
    return {
        "lago_id": found.id, "external_id": external_id, "lago_customer_id": found.customer_id,
        "external_customer_id": external_customer_id, "name": name, "plan_code": plan_code,
        "status": "terminated" if terminated else "active", "billing_time": "anniversary",
        "subscription_at": iso(found.anchor_at), "started_at": iso(found.created_at),
        "trial_ended_at": iso(found.trial_end), "ending_at": None,
        "terminated_at": iso(found.canceled_at) if terminated else None, "canceled_at": iso(found.canceled_at),
        "current_billing_period_started_at": iso(found.current_period_start),
        "current_billing_period_ending_at": iso(found.current_period_end),
        "previous_plan_code": None, "next_plan_code": None, "downgrade_plan_date": None,
        "created_at": iso(found.created_at),
    }


def invoice(found: Invoice, invoice_type: str, file_url: str | None, *, failed: bool = False) -> dict[str, Any]:
    currency = found.currency
    # An invoice already counts in minor units (cents): nothing to round here.
    subtotal, tax, total, paid = found.subtotal, found.tax, found.total, found.amount_paid
    status = {DRAFT: "draft", VOID: "voided"}.get(found.status, "finalized")
    payment_status = "succeeded" if found.status == PAID else "failed" if failed else "pending"
    return {
        "lago_id": found.id, "sequential_id": None, "number": found.number or found.id,
        "issuing_date": (found.finalized_at or found.created_at).date().isoformat(),
        "payment_due_date": (found.finalized_at or found.created_at).date().isoformat(),
        "payment_overdue": False, "net_payment_term": 0, "invoice_type": invoice_type, "version_number": 4,
        "status": status, "payment_status": payment_status, "payment_dispute_lost_at": None,
        "currency": currency, "fees_amount_cents": subtotal, "coupons_amount_cents": 0,
        "taxes_amount_cents": tax, "credit_notes_amount_cents": 0, "progressive_billing_credit_amount_cents": 0,
        "sub_total_excluding_taxes_amount_cents": subtotal, "sub_total_including_taxes_amount_cents": total,
        "total_amount_cents": total, "total_due_amount_cents": total - paid, "prepaid_credit_amount_cents": 0,
        "file_url": file_url, "metadata": [], "fees": [], "applied_taxes": [],
        "created_at": iso(found.created_at), "updated_at": iso(found.updated_at),
    }
