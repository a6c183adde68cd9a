"""The summary report as the API shows it: amounts as decimal strings of their unit, ratios as 4-place strings.

A year of daily buckets is a few thousand objects: the endpoint renders plain dicts (summary_document) rather
than validating models it built itself; the models document the shape in OpenAPI, and a test checks that
the document validates against them."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.reports.summary import SummaryRow


class TopCustomer(BaseModel):
    customer: str
    spend: str


class TopupCounts(BaseModel):
    started: int = Field(description="Checkouts opened in the bucket.")
    paid: int
    failed: int = Field(description="Failed or expired in the bucket.")


class SummaryBucket(BaseModel):
    object: Literal["summary_bucket"] = "summary_bucket"
    start: date
    end: date
    currency: str
    revenue: str
    tax: str
    topups: TopupCounts
    success_rate: str | None
    conversion: str | None
    credits_granted_paid: str
    credits_granted_promotional: str
    credits_consumed: str
    credits_expired: str
    credits_refunded: str
    balance_outstanding: str
    holds_outstanding: str
    active_customers: int
    new_customers: int
    mrr: str
    top_customers: list[TopCustomer]


class Summary(BaseModel):
    object: Literal["report_summary"] = "report_summary"
    group_by: str
    timezone: str
    data: list[SummaryBucket]


def _ratio(value: object) -> str | None:
    return None if value is None else str(value)


def bucket_document(row: SummaryRow) -> dict[str, Any]:
    unit, s = row.unit, row.sums

    def fmt(amount: int) -> str:
        return money.format(amount, unit)

    return {
        "object": "summary_bucket", "start": row.start.isoformat(), "end": row.end.isoformat(), "currency": unit,
        "revenue": fmt(row.revenue), "tax": fmt(row.tax),
        "topups": {"started": s["topups_started"], "paid": s["topups_paid"], "failed": s["topups_failed"]},
        "success_rate": _ratio(row.success_rate), "conversion": _ratio(row.conversion),
        "credits_granted_paid": fmt(s["granted_paid"]), "credits_granted_promotional": fmt(s["granted_promotional"]),
        "credits_consumed": fmt(s["consumed"]), "credits_expired": fmt(s["expired"]),
        "credits_refunded": fmt(s["credits_refunded"]), "balance_outstanding": fmt(row.balance_outstanding),
        "holds_outstanding": fmt(row.holds_outstanding), "active_customers": row.active_customers,
        "new_customers": s["new_customer"], "mrr": fmt(row.mrr),
        "top_customers": [{"customer": c, "spend": fmt(amount)} for c, amount in row.top_customers],
    }


def summary_document(rows: list[SummaryRow], group_by: str, timezone: str) -> dict[str, Any]:
    return {"object": "report_summary", "group_by": group_by, "timezone": timezone,
            "data": [bucket_document(row) for row in rows]}
