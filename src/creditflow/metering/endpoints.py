"""Metric, price and event endpoints."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import ValidationError

from creditflow.config import Settings
from creditflow.customers.service import auto_create_customers, get_customer
from creditflow.db.tx import Tx
from creditflow.debits.schemas import RefundOut
from creditflow.errors import DomainError
from creditflow.http.deps import PageDep, SettingsDep, TxDep, require_operator
from creditflow.http.errors import domain_error_response, status_for
from creditflow.http.fast_path import register as register_fast_path
from creditflow.http.group_commit import GroupCommitter
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.http.url_values import QueryTimestamp
from creditflow.keys.service import permits
from creditflow.metering import metrics as metric_service
from creditflow.metering import prices as price_service
from creditflow.metering.events import ingest
from creditflow.metering.models import EventRequest, EventResult
from creditflow.metering.queries import get_event, list_events, refund_event
from creditflow.metering.schemas import (
    BatchOut,
    EventBatchCreate,
    EventCreate,
    EventDocuments,
    EventOut,
    MetricCreate,
    MetricOut,
    PriceCreate,
    PriceOut,
    UsageOut,
)
from creditflow.metering.usage import usage_report
from creditflow.subscriptions.plans import get_plan

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
        plan=body.plan,
    )
    return PriceOut.of(price)


@router.get("/prices", response_model=Page[PriceOut])
async def list_prices(
    tx: TxDep,
    page: PageDep,
    metric: Annotated[str | None, Query()] = None,
    customer: Annotated[str | None, Query()] = None,
    plan: Annotated[str | None, Query(description="Plan id or code.")] = None,
) -> Page[PriceOut]:
    metric_id = (await metric_service.get_metric(tx, metric)).id if metric else None
    customer_id = (await get_customer(tx, customer)).id if customer else None
    plan_id = (await get_plan(tx, plan)).id if plan else None
    found = await price_service.list_prices(
        tx, metric_id=metric_id, customer_id=customer_id, plan_id=plan_id, limit=page.fetch,
        starting_after=page.starting_after,
    )
    return page_of([PriceOut.of(p) for p in found], page.limit)


@router.get("/prices/{price_id}", response_model=PriceOut)
async def get_price(price_id: str, tx: TxDep) -> PriceOut:
    return PriceOut.of(await price_service.get_price(tx, price_id))


@router.post("/prices/{price_id}/archive", response_model=PriceOut)
async def archive_price(price_id: str, tx: TxDep) -> PriceOut:
    return PriceOut.of(await price_service.archive_price(tx, price_id))


def _request(body: EventCreate, actor: str | None) -> EventRequest:
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
async def create_event(
    body: EventCreate, tx: TxDep, settings: SettingsDep, request: Request, response: Response
) -> EventOut | Response:
    """Record one usage event; count and sum metrics are rated and charged in the same transaction.

    With CREDITFLOW_AUTO_CREATE_CUSTOMERS, an unknown `customer` is created (external_id, default currency)
    and kept even when the event is refused."""
    created = await auto_create_customers(tx, settings, {body.customer})
    (outcome,) = await _ingest(tx, settings, [_request(body, tx.actor)])
    if isinstance(outcome, DomainError):
        if not created:
            raise outcome
        # A refused event writes nothing, so committing keeps only the new customer.
        request.state.commit_refusal = True
        return domain_error_response(outcome)
    if outcome.duplicate:
        response.status_code = status.HTTP_200_OK
    return EventOut.of(outcome)


@router.post("/events/batch", response_model=BatchOut)
async def create_events(body: EventBatchCreate, tx: TxDep, settings: SettingsDep) -> Response:
    """Up to 1,000 events; each is accepted, a duplicate, or rejected with its own error. Accepted ones commit.

    The charged events of one customer wallet and api_key are one debit in the ledger (GET /v1/transactions);
    each event names it as its `operation` and keeps its own cost.

    Served by a group-committed fast path (concurrent batches share one transaction, like POST /v1/debits)
    when the body is plain JSON of at most 64 KiB; this route answers the others, with the same result."""
    item = _EventBatch(body.events, tx.actor)
    (outcomes,) = await _ingest_batches(tx, settings, [item])
    return _batch_response(outcomes)


@dataclass(slots=True)
class _EventBatch:
    """One POST /v1/events/batch: its events as sent, and the operator key that sent them."""

    events: list[dict[str, Any]]
    actor: str | None = None


async def _ingest_batches(
    tx: Tx, settings: Settings, batches: list[_EventBatch]
) -> list[list[EventResult | DomainError]]:
    """Read and ingest several requests' events in one go (one lookup, one lock, one write for all of them);
    each request's events are answered in its own order, and share debits only among themselves."""
    parsed = [[_event_request(event, batch.actor, origin) for event in batch.events]
              for origin, batch in enumerate(batches)]
    valid = [p for events in parsed for p in events if isinstance(p, EventRequest)]
    await auto_create_customers(tx, settings, {p.customer for p in valid})
    outcomes = iter(await _ingest(tx, settings, valid) if valid else [])
    return [[p if isinstance(p, DomainError) else next(outcomes) for p in events] for events in parsed]


def _batch_response(outcomes: list[EventResult | DomainError]) -> Response:
    """The BatchOut document, built without a pydantic model per event (tests/metering/test_render.py)."""
    document = EventDocuments()
    results: list[dict[str, Any]] = []
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    for index, outcome in enumerate(outcomes):
        if isinstance(outcome, DomainError):
            code = "validation_error" if type(outcome) is DomainError else outcome.code
            error = {"code": code, "message": outcome.message, "param": outcome.param, "status": status_for(outcome)}
            results.append({"index": index, "status": "rejected", "event": None, "error": error})
            counts["rejected"] += 1
        else:
            state = "duplicate" if outcome.duplicate else "accepted"
            results.append({"index": index, "status": state, "event": document(outcome), "error": None})
            counts[state] += 1
    answer = {
        "object": "event_batch", "accepted": counts["accepted"], "duplicates": counts["duplicate"],
        "rejected": counts["rejected"], "results": results,
    }
    return Response(json.dumps(answer, separators=(",", ":"), check_circular=False), media_type="application/json")


async def events_batch_fast_path(request: Request, document: object) -> Response | None:
    """POST /v1/events/batch without FastAPI's routing (see http/fast_path.py), through a group committer;
    None (a body EventBatchCreate would not take as it is) falls through to the route."""
    if type(document) is not dict or len(document) != 1:
        return None
    events = document.get("events")
    if type(events) is not list or not 0 < len(events) <= MAX_BATCH or any(type(e) is not dict for e in events):
        return None
    return await _committer(request.app).submit(request, _EventBatch(events))


def _committer(app: Any) -> GroupCommitter[_EventBatch, list[EventResult | DomainError]]:
    """The app's events committer, made on first use. Inline: it has no tasks to start or stop with the app."""
    committer = getattr(app.state, "events_committer", None)
    if committer is None:
        settings: Settings = app.state.settings

        async def execute(tx: Tx, batches: list[_EventBatch]) -> list[list[EventResult | DomainError]]:
            return list(await _ingest_batches(tx, settings, batches))

        committer = app.state.events_committer = GroupCommitter(
            app.state.engine, app.state.clock, execute, _batch_response, _set_actor,
            # PostgreSQL: at least two groups in flight, so one is planned while the other waits for its commit
            # (one process alone: 10,000 events/s with one, 14,000 with two). SQLite has one writer.
            consumers=1 if settings.is_sqlite else max(2, settings.group_commit_consumers),
            max_batch=COMMIT_GROUP_REQUESTS, inline=True, name="events",
            permitted=lambda scopes: permits(scopes, "POST", "/v1/events/batch"),
        )
    return committer


def _set_actor(batch: _EventBatch, actor: str) -> None:
    batch.actor = actor


# At most this many batch requests share one transaction (up to 8,000 events; 800 with 100 per request).
COMMIT_GROUP_REQUESTS = 8
MAX_BATCH = 1000
register_fast_path("POST", "/v1/events/batch", events_batch_fast_path)


_EVENT_FIELDS = frozenset(EventCreate.model_fields)
_PLAIN_VALUES = (str, int, bool, type(None))


def _event_request(item: dict[str, Any], actor: str | None, origin: int = 0) -> EventRequest | DomainError:
    """One batch item as a request. The common shape (no timestamp, flat properties) is checked here, as
    EventCreate would check it; anything else goes through EventCreate, so errors read as on POST /v1/events."""
    if item.keys() <= _EVENT_FIELDS and item.get("timestamp") is None:
        customer, metric, transaction_id = item.get("customer"), item.get("metric"), item.get("transaction_id")
        api_key = item.get("api_key")
        properties = item.get("properties", _NO_PROPERTIES)
        if (
            type(customer) is str
            and type(metric) is str
            and type(transaction_id) is str
            and 0 < len(transaction_id) <= 255
            and (api_key is None or (type(api_key) is str and len(api_key) <= 40))
            and type(properties) is dict
            and (not properties or all(type(value) in _PLAIN_VALUES for value in properties.values()))
        ):
            return EventRequest(
                customer, metric, transaction_id, None, {} if properties is _NO_PROPERTIES else properties,
                api_key, actor, origin,
            )
    try:
        request = _request(EventCreate.model_validate(item), actor)
        request.origin = origin
        return request
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first.get("loc", ()))
        return DomainError(f"{param}: {first.get('msg')}", param=param or None)


_NO_PROPERTIES: dict[str, Any] = {}


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
        QueryTimestamp | None,
        Query(alias="from", description="RFC 3339; default: the start of the customer's current calendar month."),
    ] = None,
    end: Annotated[QueryTimestamp | None, Query(alias="to", description="RFC 3339, exclusive; default: now.")] = None,
    metric: Annotated[str | None, Query(description="Only this metric (id or code).")] = None,
    group_by: Annotated[Literal["hour", "day", "metric"], Query()] = "day",
) -> UsageOut:
    """Units, event count and cost per calendar hour or day in the customer's time zone, or per metric.

    `customer` is the creditflow id or your external_id. Max, unique_count and latest metrics are priced as
    their period close will charge them."""
    report = await usage_report(tx, customer, start=start, end=end, metric=metric, group_by=group_by)
    return UsageOut.of(report)
