"""Webhook endpoint and event request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, field_validator

from creditflow.http.schemas import StrictModel
from creditflow.webhooks.events import EVENT_TYPES
from creditflow.webhooks.models import Attempt, Delivery, Endpoint, Event
from creditflow.webhooks.service import MAX_URL_LENGTH, check_event_type, check_url

EventType = Annotated[
    str, AfterValidator(check_event_type), WithJsonSchema({"type": "string", "enum": list(EVENT_TYPES)})
]
Url = Annotated[
    str,
    Field(max_length=MAX_URL_LENGTH, examples=["https://example.com/webhooks/creditflow"]),
    AfterValidator(check_url),
]
Events = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES))]


class WebhookEndpointCreate(StrictModel):
    url: Url = Field(description="Where events are POSTed: an absolute http:// or https:// URL.")
    events: Events = Field(description="The event types this endpoint receives.")
    description: str | None = Field(default=None, max_length=500)
    format: Literal["standard", "lago"] = Field(
        default="standard",
        description="standard: Standard Webhooks. lago: Lago's body {webhook_type, object_type, <object>} signed "
        "with X-Lago-Signature (base64 HMAC-SHA256 of the body, keyed with the secret), for code moved from Lago.",
    )


class WebhookEndpointUpdate(StrictModel):
    """Only the fields sent change; description may be cleared with null, the others not."""

    url: Url | None = None
    events: Events | None = None
    description: str | None = Field(default=None, max_length=500)
    disabled: bool | None = Field(default=None, description="A disabled endpoint receives nothing until enabled.")

    @field_validator("url", "events", "disabled")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null")
        return value


class WebhookEndpointOut(BaseModel):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str
    url: str
    description: str | None
    events: list[str]
    disabled: bool
    format: str
    created_at: datetime
    updated_at: datetime
    previous_secret_expires_at: datetime | None = Field(
        default=None, description="After POST .../rotate_secret: until then requests carry a signature by the "
        "previous secret as well as by the new one."
    )

    @classmethod
    def of(cls, endpoint: Endpoint) -> WebhookEndpointOut:
        return cls(**_endpoint_fields(endpoint))


class WebhookEndpointWithSecret(WebhookEndpointOut):
    secret: str = Field(
        description="Signs every request to this endpoint (Standard Webhooks, whsec_...). Shown when the endpoint "
        "is created or fetched by id; an idempotent replay of the create shows it redacted."
    )

    @classmethod
    def with_secret(cls, endpoint: Endpoint) -> WebhookEndpointWithSecret:
        return cls(**_endpoint_fields(endpoint), secret=endpoint.secret)


def _endpoint_fields(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id, "url": endpoint.url, "description": endpoint.description, "events": endpoint.events,
        "disabled": endpoint.disabled, "created_at": endpoint.created_at, "updated_at": endpoint.updated_at,
        "previous_secret_expires_at": endpoint.previous_secret_expires_at, "format": endpoint.format,
    }


class WebhookEndpointDeleted(BaseModel):
    object: Literal["webhook_endpoint"] = "webhook_endpoint"
    id: str
    deleted: Literal[True] = True


class WebhookEventTypeOut(BaseModel):
    type: str
    description: str


class AttemptOut(BaseModel):
    id: str
    attempted_at: datetime
    status_code: int | None = Field(description="The endpoint's HTTP status; null when no answer came.")
    latency_ms: int
    error: str | None = Field(description="Why it failed: the start of a non-2xx answer, or the network error.")

    @classmethod
    def of(cls, attempt: Attempt) -> AttemptOut:
        return cls(
            id=attempt.id, attempted_at=attempt.attempted_at, status_code=attempt.status_code,
            latency_ms=attempt.latency_ms, error=attempt.error,
        )


class DeliveryOut(BaseModel):
    id: str
    endpoint: str
    url: str
    status: Literal["pending", "delivered", "failed", "canceled"]
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due, while pending.")
    delivered_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(**_delivery_fields(delivery))


class DeliveryWithAttempts(DeliveryOut):
    attempts: list[AttemptOut] = Field(description="Every attempt, oldest first.")

    @classmethod
    def with_attempts(cls, delivery: Delivery) -> DeliveryWithAttempts:
        return cls(**_delivery_fields(delivery), attempts=[AttemptOut.of(a) for a in delivery.attempt_log])


def _delivery_fields(delivery: Delivery) -> dict[str, Any]:
    return {
        "id": delivery.id, "endpoint": delivery.endpoint_id, "url": delivery.url, "status": delivery.status,
        "attempt_count": delivery.attempts, "next_attempt_at": delivery.next_attempt_at,
        "delivered_at": delivery.delivered_at,
    }


class WebhookEventOut(BaseModel):
    object: Literal["webhook_event"] = "webhook_event"
    id: str = Field(description="Sent as the webhook-id header, the same on every attempt.")
    type: str
    data: dict[str, Any]
    created_at: datetime
    deliveries: list[DeliveryOut]

    @classmethod
    def of(cls, event: Event) -> WebhookEventOut:
        return cls(
            id=event.id, type=event.type, data=event.data, created_at=event.created_at,
            deliveries=[DeliveryOut.of(d) for d in event.deliveries],
        )


class WebhookEventDetail(WebhookEventOut):
    deliveries: list[DeliveryWithAttempts]  # type: ignore[assignment]

    @classmethod
    def detail(cls, event: Event) -> WebhookEventDetail:
        return cls(
            id=event.id, type=event.type, data=event.data, created_at=event.created_at,
            deliveries=[DeliveryWithAttempts.with_attempts(d) for d in event.deliveries],
        )
