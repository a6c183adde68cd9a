"""Metric, price and event endpoints."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, ValidationError

from creditflow.customers.service import get_customer
from creditflow.debits.schemas import RefundOut
from creditflow.errors import DomainError
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.errors import status_for
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.metering import metrics as metric_service
from creditflow.metering import prices as price_service
from creditflow.metering.events import ingest
from creditflow.metering.models import EventRequest, EventResult
from creditflow.metering.queries import get_event, list_events, refund_event
from creditflow.metering.schemas import (
    BatchItemOut,
    BatchOut,
    EventBatchCreate,
    EventCreate,
    EventOut,
    MetricCreate,
    MetricOut,
    PriceCreate,
    PriceOut,
    UsageOut,
)
from creditflow.metering.usage import usage_report

router = APIRouter(prefix="/v1", tags=["metering"], route_class=UnitOfWorkRoute, dependencies=[require_operator])
FUTURE_TOLERANCE = timedelta(minutes=5)


@router.post("/metrics", status_code=status.HTTP_201_CREATED, response_model=MetricOut)
async def create_metric(body: MetricCreate, tx: TxDep) -> MetricOut:
    metric = await metric_service.create_metric(
        tx, code=body.code, name=body.name, aggregation=body.aggregation, field=body.field, filters=body.filters
    )
    return MetricOut.of(metric)


@router.get("/metrics", response_model=Page[MetricOut])
async def list_metrics(tx: TxDep, page: PageDep) -> Page[MetricOut]:
    found = await metric_service.list_metrics(tx, limit=page.fetch, starting_after=page.starting_after)
    return page_of([MetricOut.of(m) for m in found], page.limit)


@router.get("/metrics/{metric}", response_model=MetricOut)
async def get_metric(metric: str, tx: TxDep) -> MetricOut:
    """`metric` is the id or the code."""
    return MetricOut.of(await metric_service.get_metric(tx, metric))


@router.post("/metrics/{metric}/archive", response_model=MetricOut)
async def archive_metric(metric: str, tx: TxDep) -> MetricOut:
    return MetricOut.of(await metric_service.archive_metric(tx, metric))


@router.post("/prices", status_code=status.HTTP_201_CREATED, response_model=PriceOut)
async def create_price(body: PriceCreate, tx: TxDep) -> PriceOut:
    """A price for a metric's usage; the most specific matching price applies to each event."""
    price = await price_service.create_price(
        tx,
        metric=body.metric,
        currency=body.currency,
        model=body.model,
        properties=body.properties,
        free_units_per_period=body.free_units_per_period,
        period=body.period,
        filters=body.filters,
        customer=body.customer,
    )
    return PriceOut.of(price)


@router.get("/prices", response_model=Page[PriceOut])
async def list_prices(
    tx: TxDep,
    page: PageDep,
    metric: Annotated[str | None, Query()] = None,
    customer: Annotated[str | None, Query()] = None,
) -> Page[PriceOut]:
    metric_id = (await metric_service.get_metric(tx, metric)).id if metric else None
    customer_id = (await get_customer(tx, customer)).id if customer else None
    found = await price_service.list_prices(
        tx, metric_id=metric_id, customer_id=customer_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([PriceOut.of(p) for p in found], page.limit)


@router.get("/prices/{price_id}", response_model=PriceOut)
async def get_price(price_id: str, tx: TxDep) -> PriceOut:
    return PriceOut.of(await price_service.get_price(tx, price_id))


@router.post("/prices/{price_id}/archive", response_model=PriceOut)
async def archive_price(price_id: str, tx: TxDep) -> PriceOut:
    return PriceOut.of(await price_service.archive_price(tx, price_id))


def _request(body: EventCreate, actor: str) -> EventRequest:
    return EventRequest(
        customer=body.customer,
        metric=body.metric,
        transaction_id=body.transaction_id,
        timestamp=body.timestamp,
        properties=body.properties,
        api_key=body.api_key,
        actor=actor,
    )


async def _ingest(tx: TxDep, settings: SettingsDep, requests: list[EventRequest], *, charge: bool = True):
    return await ingest(
        tx,
        requests,
        late_window=timedelta(hours=settings.events_late_window_hours),
        future_tolerance=FUTURE_TOLERANCE,
        charge_wallet=charge,
    )


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    responses={
        200: {"description": "a duplicate transaction_id: the original event, not charged again"},
        402: {"description": "insufficient_funds or budget_exceeded: the event was not recorded"},
    },
)
async def create_event(body: EventCreate, tx: TxDep, settings: SettingsDep, response: Response) -> EventOut:
    """Record one usage event; count and sum metrics are rated and charged in the same transaction."""
    (outcome,) = await _ingest(tx, settings, [_request(body, tx.actor)])
    if isinstance(outcome, DomainError):
        raise outcome
    if outcome.duplicate:
        response.status_code = status.HTTP_200_OK
    return EventOut.of(outcome)


@router.post("/events/batch", response_model=BatchOut)
async def create_events(body: EventBatchCreate, tx: TxDep, settings: SettingsDep) -> BatchOut:
    """Up to 1,000 events; each is accepted, a duplicate, or rejected with its own error. Accepted ones commit."""
    parsed: list[EventCreate | DomainError] = []
    for item in body.events:
        try:
            parsed.append(EventCreate.model_validate(item))
        except ValidationError as exc:
            first = exc.errors()[0]
            param = ".".join(str(p) for p in first.get("loc", ()))
            parsed.append(DomainError(f"{param}: {first.get('msg')}", param=param or None))
    valid = [p for p in parsed if isinstance(p, EventCreate)]
    outcomes = iter(await _ingest(tx, settings, [_request(p, tx.actor) for p in valid]) if valid else [])
    results = []
    for index, item in enumerate(parsed):
        outcome: EventResult | DomainError = item if isinstance(item, DomainError) else next(outcomes)
        results.append(_batch_item(index, outcome))
    return BatchOut(
        accepted=sum(r.status == "accepted" for r in results),
        duplicates=sum(r.status == "duplicate" for r in results),
        rejected=sum(r.status == "rejected" for r in results),
        results=results,
    )


def _batch_item(index: int, outcome: EventResult | DomainError) -> BatchItemOut:
    if isinstance(outcome, DomainError):
        code = "validation_error" if type(outcome) is DomainError else outcome.code
        error = {"code": code, "message": outcome.message, "param": outcome.param, "status": status_for(outcome)}
        return BatchItemOut(index=index, status="rejected", error=error)
    return BatchItemOut(
        index=index, status="duplicate" if outcome.duplicate else "accepted", event=EventOut.of(outcome)
    )


@router.post("/events/estimate", response_model=EventOut)
async def estimate_event(body: EventCreate, tx: TxDep, settings: SettingsDep) -> EventOut:
    """Price an event as if it arrived now, without recording or charging it."""
    (outcome,) = await _ingest(tx, settings, [_request(body, tx.actor)], charge=False)
    if isinstance(outcome, DomainError):
        raise outcome
    return EventOut.of(outcome)


@router.get("/events", response_model=Page[EventOut])
async def list_events_endpoint(
    tx: TxDep,
    page: PageDep,
    customer: Annotated[str | None, Query()] = None,
    metric: Annotated[str | None, Query()] = None,
) -> Page[EventOut]:
    customer_id = (await get_customer(tx, customer)).id if customer else None
    metric_id = (await metric_service.get_metric(tx, metric)).id if metric else None
    found = await list_events(
        tx, customer_id=customer_id, metric_id=metric_id, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([EventOut.of(e) for e in found], page.limit)


@router.get("/events/{event_id}", response_model=EventOut)
async def get_event_endpoint(event_id: str, tx: TxDep) -> EventOut:
    return EventOut.of(await get_event(tx, event_id))


@router.post("/events/{event_id}/refund", status_code=status.HTTP_201_CREATED, response_model=RefundOut)
async def refund_event_endpoint(event_id: str, tx: TxDep) -> RefundOut:
    """Refund what is left of the event's charge, to the lots it came from (see debit refunds)."""
    return RefundOut.of(await refund_event(tx, event_id))


@router.get("/customers/{customer}/usage", response_model=UsageOut)
async def customer_usage(
    customer: str,
    tx: TxDep,
    start: Annotated[
        AwareDatetime | None,
        Query(alias="from", description="RFC 3339; default: the start of the customer's current calendar month."),
    ] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to", description="RFC 3339, exclusive; default: now.")] = None,
    metric: Annotated[str | None, Query(description="Only this metric (id or code).")] = None,
    group_by: Annotated[Literal["hour", "day", "metric"], Query()] = "day",
) -> UsageOut:
    """Units, event count and cost per calendar hour or day in the customer's time zone, or per metric.

    `customer` is the creditflow id or your external_id. Max, unique_count and latest metrics are priced as
    their period close will charge them."""
    report = await usage_report(tx, customer, start=start, end=end, metric=metric, group_by=group_by)
    return UsageOut.of(report)
