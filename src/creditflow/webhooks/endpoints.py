"""Webhook endpoints and the event log over HTTP: thin, they parse, call the service, render."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute
from creditflow.webhooks import service
from creditflow.webhooks.events import EVENT_TYPES
from creditflow.webhooks.schemas import (
    EventType,
    WebhookEndpointCreate,
    WebhookEndpointDeleted,
    WebhookEndpointOut,
    WebhookEndpointUpdate,
    WebhookEndpointWithSecret,
    WebhookEventDetail,
    WebhookEventOut,
    WebhookEventTypeOut,
)

endpoints_router = APIRouter(
    prefix="/v1/webhook_endpoints", tags=["webhooks"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
events_router = APIRouter(
    prefix="/v1/webhook_events", tags=["webhooks"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)
types_router = APIRouter(
    prefix="/v1/webhook_event_types", tags=["webhooks"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@endpoints_router.post("", status_code=status.HTTP_201_CREATED, response_model=WebhookEndpointWithSecret)
async def create_webhook_endpoint(body: WebhookEndpointCreate, tx: TxDep) -> WebhookEndpointWithSecret:
    """Receive `events` at `url`, signed with the returned `secret` (Standard Webhooks)."""
    endpoint = await service.create_endpoint(
        tx, url=body.url, events=body.events, description=body.description, format=body.format
    )
    return WebhookEndpointWithSecret.with_secret(endpoint)


@endpoints_router.get("", response_model=Page[WebhookEndpointOut])
async def list_webhook_endpoints(tx: TxDep, page: PageDep) -> Page[WebhookEndpointOut]:
    """Endpoints, newest first, without their secrets."""
    endpoints = await service.list_endpoints(tx, limit=page.fetch, starting_after=page.starting_after)
    return page_of([WebhookEndpointOut.of(e) for e in endpoints], page.limit)


@endpoints_router.get("/{endpoint_id}", response_model=WebhookEndpointWithSecret)
async def get_webhook_endpoint(endpoint_id: str, tx: TxDep) -> WebhookEndpointWithSecret:
    """The endpoint with its signing secret."""
    return WebhookEndpointWithSecret.with_secret(await service.get_endpoint(tx, endpoint_id))


@endpoints_router.patch("/{endpoint_id}", response_model=WebhookEndpointOut)
async def update_webhook_endpoint(endpoint_id: str, body: WebhookEndpointUpdate, tx: TxDep) -> WebhookEndpointOut:
    """Change url, events, description, or disable it (pending deliveries wait until it is enabled)."""
    return WebhookEndpointOut.of(await service.update_endpoint(tx, endpoint_id, body.model_dump(exclude_unset=True)))


@endpoints_router.post("/{endpoint_id}/rotate_secret", response_model=WebhookEndpointWithSecret)
async def rotate_webhook_endpoint_secret(endpoint_id: str, tx: TxDep) -> WebhookEndpointWithSecret:
    """A new signing secret, returned here; requests are signed with both the new and the previous secret for
    24 hours (until `previous_secret_expires_at`), then with the new one only."""
    return WebhookEndpointWithSecret.with_secret(await service.rotate_secret(tx, endpoint_id))


@endpoints_router.delete("/{endpoint_id}", response_model=WebhookEndpointDeleted)
async def delete_webhook_endpoint(endpoint_id: str, tx: TxDep) -> WebhookEndpointDeleted:
    """Stop sending to it; its pending deliveries are canceled, past ones stay in the event log."""
    await service.delete_endpoint(tx, endpoint_id)
    return WebhookEndpointDeleted(id=endpoint_id)


@events_router.get("", response_model=Page[WebhookEventOut])
async def list_webhook_events(
    tx: TxDep,
    page: PageDep,
    event_type: Annotated[EventType | None, Query(alias="type", description="Only events of this type.")] = None,
) -> Page[WebhookEventOut]:
    """Events, newest first, each with its deliveries."""
    events = await service.list_events(
        tx, event_type=event_type, limit=page.fetch, starting_after=page.starting_after
    )
    return page_of([WebhookEventOut.of(e) for e in events], page.limit)


@events_router.get("/{event_id}", response_model=WebhookEventDetail)
async def get_webhook_event(event_id: str, tx: TxDep) -> WebhookEventDetail:
    """The event, its deliveries, and every attempt each made (status code, latency, error, time)."""
    return WebhookEventDetail.detail(await service.get_event(tx, event_id))


@events_router.post("/{event_id}/resend", response_model=WebhookEventOut)
async def resend_webhook_event(event_id: str, tx: TxDep) -> WebhookEventOut:
    """Send the event again now to every enabled endpoint subscribed to its type, with a fresh retry schedule."""
    return WebhookEventOut.of(await service.resend_event(tx, event_id))


@types_router.get("", response_model=Page[WebhookEventTypeOut])
async def list_webhook_event_types(page: PageDep) -> Page[WebhookEventTypeOut]:
    """Every event type an endpoint can subscribe to; `starting_after` takes a type."""
    return page.of([WebhookEventTypeOut(type=t, description=d) for t, d in EVENT_TYPES.items()], lambda t: t.type)
