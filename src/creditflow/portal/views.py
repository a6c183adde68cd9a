"""What the portal pages show, read through the same services as the API: balance cards, the plan, spend
by day and by metric. Amounts stay integers here; templates format them with Babel."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from creditflow import money
from creditflow.balance_alerts.service import get_alert
from creditflow.customers.service import Customer
from creditflow.db.tx import Tx
from creditflow.errors import NotFound
from creditflow.ledger.models import Grant
from creditflow.metering.usage import UsageReport, usage_report
from creditflow.periods import period_start
from creditflow.subscriptions import plans
from creditflow.subscriptions import service as subscriptions
from creditflow.subscriptions.models import Plan, Subscription
from creditflow.wallets.service import WalletView, customer_wallets

CURRENT_STATUSES = ("trialing", "active", "past_due")


@dataclass(slots=True)
class WalletCard:
    unit: str
    available: int
    held: int
    posted: int
    next_expiry: int | None
    next_expiry_at: datetime | None
    low_threshold: int | None

    @property
    def is_low(self) -> bool:
        return self.available <= 0 or (self.low_threshold is not None and self.available < self.low_threshold)


@dataclass(slots=True)
class Chart:
    """Cost per day stacked by metric, as decimal strings the chart script reads (display only)."""

    labels: list[str]
    series: dict[str, list[str]]
    unit: str

    def as_json(self) -> dict[str, object]:
        return {"labels": self.labels, "series": self.series, "unit": self.unit}


@dataclass(slots=True)
class MetricRow:
    metric: str
    units: int
    events: int
    cost: int
    currency: str | None


@dataclass(slots=True)
class Overview:
    cards: list[WalletCard]
    subscription: Subscription | None
    plan: Plan | None
    month_spend: int
    chart: Chart
    metrics: list[MetricRow] = field(default_factory=list)


async def wallet_cards(tx: Tx, customer: Customer) -> list[WalletCard]:
    cards = [_card(view) for view in await customer_wallets(tx, customer.id)]
    for card in cards:
        try:
            card.low_threshold = (await get_alert(tx, customer.id, card.unit)).effective_threshold
        except NotFound:
            card.low_threshold = None
    # The customer's own currency first, then the others by name.
    return sorted(cards, key=lambda c: (c.unit != customer.currency, c.unit))


def next_expiring_lot(view: WalletView) -> Grant | None:
    expiring = [lot for lot in view.lots if lot.expires_at is not None and lot.remaining > 0]
    return min(expiring, key=lambda lot: lot.expires_at or lot.created_at, default=None)


def _card(view: WalletView) -> WalletCard:
    state = view.state
    first = next_expiring_lot(view)
    return WalletCard(
        unit=state.unit, available=state.available, held=state.held, posted=state.posted,
        next_expiry=first.remaining if first else None, next_expiry_at=first.expires_at if first else None,
        low_threshold=None,
    )


async def current_plan(tx: Tx, customer_id: str) -> tuple[Subscription | None, Plan | None]:
    found = await subscriptions.list_subscriptions(
        tx, customer_id=customer_id, status=None, limit=20, starting_after=None
    )
    for subscription in found:
        if subscription.status in CURRENT_STATUSES:
            return subscription, await plans.get_plan(tx, subscription.plan_id)
    return None, None


def day_chart(report: UsageReport, customer: Customer, days: int, now: datetime) -> Chart:
    zone = ZoneInfo(customer.timezone)
    first = (now.astimezone(zone) - timedelta(days=days - 1)).date()
    dates = [first + timedelta(days=i) for i in range(days)]
    by_metric: dict[str, dict[str, int]] = defaultdict(dict)
    for row in report.rows:
        if row.currency in (None, customer.currency):
            day = row.start.astimezone(zone).date().isoformat()
            by_metric[row.metric][day] = by_metric[row.metric].get(day, 0) + row.cost
    series = {
        metric: [money.format(costs.get(d.isoformat(), 0), customer.currency) for d in dates]
        for metric, costs in sorted(by_metric.items())
    }
    return Chart(labels=[d.strftime("%b %-d") for d in dates], series=series, unit=customer.currency)


def days_start(customer: Customer, days: int, now: datetime) -> datetime:
    """Midnight, in the customer's zone, `days - 1` days ago: the first bucket of a `days`-day chart."""
    return period_start("day", now - timedelta(days=days - 1), customer.timezone)


async def spend_chart(tx: Tx, customer: Customer, days: int) -> Chart:
    report = await usage_report(
        tx, customer.id, start=days_start(customer, days, tx.now), end=tx.now, metric=None, group_by="day"
    )
    return day_chart(report, customer, days, tx.now)


async def metric_rows(tx: Tx, customer: Customer, start: datetime | None) -> list[MetricRow]:
    report = await usage_report(tx, customer.id, start=start, end=tx.now, metric=None, group_by="metric")
    return [MetricRow(r.metric, r.units, r.events, r.cost, r.currency) for r in report.rows]


async def overview(tx: Tx, customer: Customer) -> Overview:
    subscription, plan = await current_plan(tx, customer.id)
    month = await metric_rows(tx, customer, None)
    spend = sum(row.cost for row in month if row.currency == customer.currency)
    return Overview(
        cards=await wallet_cards(tx, customer), subscription=subscription, plan=plan, month_spend=spend,
        chart=await spend_chart(tx, customer, 30), metrics=month,
    )
