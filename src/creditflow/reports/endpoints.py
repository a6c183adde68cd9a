"""GET /v1/reports/daily: the daily summary the job runner stores once each day has ended."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from creditflow import money
from creditflow.errors import InvalidRequest
from creditflow.http.deps import TxDep, require_operator
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.money import Unit
from creditflow.reports.daily import DailyReport, list_reports

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
    since: Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD), inclusive.")] = None,
    until: Annotated[date | None, Query(alias="to", description="Last day, inclusive.")] = None,
    currency: Annotated[Unit | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DailyReports:
    """Per day (in the seller's time zone) and currency, newest first: top-ups paid and the money collected
    (tax included), revenue (net of tax), refunds, spend (credits charged, net) and new customers."""
    if since is not None and until is not None and since > until:
        raise InvalidRequest("from must not be after to", param="from")
    found = await list_reports(tx, since=since, until=until, currency=currency, limit=limit)
    return DailyReports(data=[DailyReportOut.of(report) for report in found])
