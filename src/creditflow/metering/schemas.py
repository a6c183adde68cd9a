"""Metric, price and event request and response bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, Field

from creditflow import money
from creditflow.http.schemas import ApiKeyRef, StrictModel
from creditflow.metering.metrics import AGGREGATIONS, Metric
from creditflow.metering.models import EventResult
from creditflow.metering.prices import Price
from creditflow.metering.usage import UsageReport
from creditflow.money import Amount, Unit
from creditflow.periods import PERIODS
from creditflow.pricing.specs import MODELS

Filters = dict[str, list[Annotated[str, Field(max_length=200)]]]


def _timestamp(value: Any) -> Any:
    """RFC 3339 text or epoch seconds (a JSON number is read exactly, never as a float)."""
    if isinstance(value, bool):
        raise ValueError("a timestamp is RFC 3339 text or epoch seconds")
    if isinstance(value, int | Decimal):
        try:
            micros = int((Decimal(value) * 1_000_000).to_integral_value())
            return _EPOCH + timedelta(microseconds=micros)
        except (OverflowError, ArithmeticError):
            raise ValueError("the timestamp is out of range") from None
    return value


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# An event is a small fact about usage: these bound what every event stores and every answer returns.
MAX_PROPERTIES = 100
MAX_PROPERTIES_BYTES = 16 * 1024


def _exact_json(properties: dict[str, Any]) -> dict[str, Any]:
    """JSON numbers with decimals arrive as Decimal; they are kept exact as decimal strings ("0.1")."""
    if len(properties) > MAX_PROPERTIES:
        raise ValueError(f"at most {MAX_PROPERTIES} properties")
    text = json.dumps(properties, default=str)
    if len(text.encode()) > MAX_PROPERTIES_BYTES:
        raise ValueError(f"properties are at most {MAX_PROPERTIES_BYTES} bytes as JSON")
    return json.loads(text)


Timestamp = Annotated[datetime, BeforeValidator(_timestamp)]


class MetricCreate(StrictModel):
    code: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=255)
    aggregation: Literal[AGGREGATIONS]  # type: ignore[valid-type]
    field: str | None = Field(default=None, min_length=1, max_length=100)
    filters: Filters = Field(default_factory=dict)


class MetricOut(BaseModel):
    object: Literal["metric"] = "metric"
    id: str
    code: str
    name: str
    aggregation: str
    field: str | None
    filters: dict[str, list[str]]
    status: str
    created_at: datetime
    archived_at: datetime | None

    @classmethod
    def of(cls, metric: Metric) -> MetricOut:
        return cls(**{f: getattr(metric, f) for f in Metric.__slots__})


class UsagePrice(StrictModel):
    """A usage price as a plan carries it (POST /v1/plans `prices`)."""

    metric: str = Field(description="Metric id or code.")
    currency: Unit
    model: Literal[MODELS]  # type: ignore[valid-type]
    properties: dict[str, Any]
    free_units_per_period: Amount = 0
    period: Literal[PERIODS] = "month"  # type: ignore[valid-type]
    filters: Filters = Field(default_factory=dict, description='Property values it applies to: {"model": ["gpt-4o"]}.')


class PriceCreate(UsagePrice):
    customer: str | None = Field(default=None, description="An override for one customer (id or external_id).")
    plan: str | None = Field(
        default=None,
        description="For the subscribers of one plan (id or code): it applies to them before the default price, "
        "and a customer's own price before it.",
    )


class PriceOut(BaseModel):
    object: Literal["price"] = "price"
    id: str
    metric: str
    customer: str | None
    plan: str | None
    currency: str
    model: str
    properties: dict[str, Any]
    free_units_per_period: str
    period: str
    filters: dict[str, list[str]]
    status: str
    created_at: datetime

    @classmethod
    def of(cls, price: Price) -> PriceOut:
        return cls(
            id=price.id,
            metric=price.metric_id,
            customer=price.customer_id,
            plan=price.plan_id,
            currency=price.currency,
            model=price.model,
            properties=price.properties,
            free_units_per_period=money.format(price.free_units_per_period, "UNITS"),
            period=price.period,
            filters=price.filters,
            status=price.status,
            created_at=price.created_at,
        )


class EventCreate(StrictModel):
    customer: str = Field(description="Customer id or external_id.")
    metric: str = Field(description="Metric code or id.")
    transaction_id: str = Field(min_length=1, max_length=255, description="Your unique id for this event.")
    timestamp: Timestamp | None = Field(default=None, description="RFC 3339 or epoch seconds; default now.")
    properties: Annotated[dict[str, Any], AfterValidator(_exact_json)] = Field(default_factory=dict)
    api_key: ApiKeyRef = None


class EventBatchCreate(StrictModel):
    events: list[dict[str, Any]] = Field(min_length=1, max_length=1000)


class WalletAvailable(BaseModel):
    available: str


class EventOut(BaseModel):
    object: Literal["event"] = "event"
    id: str
    customer: str
    metric: str
    transaction_id: str
    timestamp: datetime
    properties: dict[str, Any]
    quantity: str
    cost: str
    currency: str | None
    refunded: str
    operation: str | None = Field(
        default=None,
        description="The ledger operation (GET /v1/transactions) that charged or credited the event. The charged "
        "events of one batch request with the same customer wallet and api_key share one debit, which records "
        "how many events it covers; refunding an event takes back only that event's cost.",
    )
    duplicate: bool = False
    wallet: WalletAvailable | None = None
    created_at: datetime

    @classmethod
    def of(cls, event: EventResult) -> EventOut:
        unit = event.currency or "UNITS"
        wallet = None
        if event.available is not None and event.currency is not None:
            wallet = WalletAvailable(available=money.format(event.available, event.currency))
        return cls(
            id=event.id,
            customer=event.customer_id,
            metric=event.metric,
            transaction_id=event.transaction_id,
            timestamp=event.timestamp,
            properties=event.properties,
            quantity=money.format(event.quantity, "UNITS"),
            cost=money.format(event.cost, unit),
            currency=event.currency,
            refunded=money.format(event.refunded, unit),
            operation=event.operation_id,
            duplicate=event.duplicate,
            wallet=wallet,
            created_at=event.created_at,
        )


class BatchItemOut(BaseModel):
    index: int
    status: Literal["accepted", "duplicate", "rejected"]
    event: EventOut | None = None
    error: dict[str, Any] | None = None


class BatchOut(BaseModel):
    object: Literal["event_batch"] = "event_batch"
    accepted: int
    duplicates: int
    rejected: int
    results: list[BatchItemOut]


def _instant(moment: datetime) -> str:
    """A datetime as pydantic writes it in JSON."""
    return moment.isoformat().replace("+00:00", "Z")


class EventDocuments:
    """EventOut documents as plain dicts, for the batch endpoint (up to 1,000 per request, so without a pydantic
    model per event); what repeats across a batch's events (instants, amounts) is formatted once.
    tests/metering/test_render.py holds each document equal to EventOut.of(event)."""

    def __init__(self) -> None:
        self._instants: dict[datetime, str] = {}
        self._amounts: dict[tuple[int, str], str] = {}

    def _instant(self, moment: datetime) -> str:
        text = self._instants.get(moment)
        if text is None:
            text = self._instants[moment] = _instant(moment)
        return text

    def _amount(self, micros: int, unit: str) -> str:
        key = (micros, unit)
        text = self._amounts.get(key)
        if text is None:
            text = self._amounts[key] = money.format(micros, unit)
        return text

    def __call__(self, event: EventResult) -> dict[str, Any]:
        currency = event.currency
        unit = currency or "UNITS"
        wallet = None
        if event.available is not None and currency is not None:
            wallet = {"available": money.format(event.available, currency)}
        return {
            "object": "event",
            "id": event.id,
            "customer": event.customer_id,
            "metric": event.metric,
            "transaction_id": event.transaction_id,
            "timestamp": self._instant(event.timestamp),
            "properties": event.properties,
            "quantity": self._amount(event.quantity, "UNITS"),
            "cost": self._amount(event.cost, unit),
            "currency": currency,
            "refunded": self._amount(event.refunded, unit),
            "operation": event.operation_id,
            "duplicate": event.duplicate,
            "wallet": wallet,
            "created_at": self._instant(event.created_at),
        }


class UsageBucketOut(BaseModel):
    start: datetime = Field(description="The bucket's calendar start (for group_by=metric, the report's from).")
    end: datetime
    metric: str = Field(description="The metric's code.")
    currency: str | None = Field(description="The currency of the prices charged; null when no price applies.")
    units: str = Field(description="The metric's aggregate over the bucket's events (sum, count, max, ...).")
    events: int
    cost: str = Field(description="Count and sum metrics: charged, net of refunds. Others: what the period close adds.")


    @classmethod
    def all_of(cls, report: UsageReport) -> list[UsageBucketOut]:
        return [
            cls(
                start=row.start, end=row.end, metric=row.metric, currency=row.currency,
                units=money.format(row.units, "UNITS"), events=row.events,
                cost=money.format(row.cost, row.currency or "UNITS"),
            )
            for row in report.rows
        ]


class UsageOut(BaseModel):
    object: Literal["usage"] = "usage"
    customer: str
    timezone: str = Field(description="The customer's time zone: buckets are its calendar hours and days.")
    group_by: str
    metric: str | None
    start: datetime = Field(serialization_alias="from")
    end: datetime = Field(serialization_alias="to")
    data: list[UsageBucketOut]

    @classmethod
    def of(cls, report: UsageReport) -> UsageOut:
        return cls(
            customer=report.customer_id,
            timezone=report.timezone,
            group_by=report.group_by,
            metric=report.metric,
            start=report.start,
            end=report.end,
            data=UsageBucketOut.all_of(report),
        )
