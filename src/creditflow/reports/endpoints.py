"""GET /v1/reports/daily (the daily summary the job runner stores once each day has ended) and
GET /v1/reports/summary (figures per day, week or month from the per-customer rollups)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from creditflow import money
from creditflow.errors import InvalidRequest
from creditflow.http.deps import SettingsDep, TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.http.url_values import QueryDate
from creditflow.money import Unit
from creditflow.reports.buckets import GroupBy
from creditflow.reports.daily import DailyReport, list_reports
from creditflow.reports.schemas import Summary, summary_document
from creditflow.reports.summary import summarize

router = APIRouter(prefix="/v1/reports", tags=["reports"], route_class=UnitOfWorkRoute,
                   dependencies=[require_operator])


class DailyReportOut(BaseModel):
    object: Literal["daily_report"] = "daily_report"
    day: date
    currency: str
    topups: int
    topups_amount: str
    revenue: str
    refunds: str
    spend: str
    new_customers: int

    @classmethod
    def of(cls, report: DailyReport) -> DailyReportOut:
        unit = report.currency
        return cls(
            day=date.fromisoformat(report.day), currency=unit, topups=report.topups,
            topups_amount=money.format(report.topups_amount, unit), revenue=money.format(report.revenue, unit),
            refunds=money.format(report.refunds, unit), spend=money.format(report.spend, unit),
            new_customers=report.new_customers,
        )


class DailyReports(BaseModel):
    object: Literal["list"] = "list"
    data: list[DailyReportOut]


@router.get("/daily", response_model=DailyReports)
async def daily_reports(
    tx: TxDep,
    since: Annotated[QueryDate | None, Query(alias="from", description="First day (YYYY-MM-DD), inclusive.")] = None,
    until: Annotated[QueryDate | None, Query(alias="to", description="Last day, inclusive.")] = None,
    currency: Annotated[Unit | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DailyReports:
    """Per day (in the seller's time zone) and currency, newest first: top-ups paid and the money collected
    (tax included), revenue (net of tax), refunds, spend (credits charged, net) and new customers."""
    if since is not None and until is not None and since > until:
        raise InvalidRequest("from must not be after to", param="from")
    found = await list_reports(tx, since=since, until=until, currency=currency, limit=limit)
    return DailyReports(data=[DailyReportOut.of(report) for report in found])


@router.get("/summary", response_model=Summary)
async def summary(
    tx: TxDep,
    settings: SettingsDep,
    since: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD), inclusive; "
                                        "default 29 days before `to`.")] = None,
    until: Annotated[date | None, Query(alias="to", description="Last day, inclusive; default today.")] = None,
    group_by: Annotated[GroupBy, Query()] = GroupBy.DAY,
    currency: Annotated[Unit | None, Query(description="Only this currency or credit unit.")] = None,
) -> Response:
    """Per bucket (in the seller's time zone, CREDITFLOW_SELLER_TIMEZONE) and unit: revenue, tax, top-ups,
    credits granted, consumed, expired and refunded, balances and holds at the end, customers, MRR and the top
    10 customers by spend. Each figure is defined in the README (Reports)."""
    timezone = settings.seller_timezone
    until = until or tx.now.astimezone(ZoneInfo(timezone)).date()
    since = since or until - timedelta(days=29)
    rows = await summarize(tx.conn, now=tx.now, timezone=timezone, since=since, until=until, group_by=group_by,
                           unit=currency)
    document = summary_document(rows, group_by.value, timezone)
    return Response(json.dumps(document, separators=(",", ":")), media_type="application/json")
