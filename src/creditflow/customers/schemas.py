"""Customer request and response bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, Field, field_validator

from creditflow.customers.service import Customer
from creditflow.http.schemas import Metadata, StrictModel
from creditflow.money import Amount, Unit

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"'{value}' is not an IANA time zone such as Asia/Jakarta") from None
    return value


def _check_email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


Timezone = Annotated[str, AfterValidator(_check_timezone)]
NetTerms = Annotated[int, Field(ge=0, le=365, description="Days an invoice with something due may stay unpaid.")]
Email = Annotated[str, Field(max_length=320), AfterValidator(_check_email)]


class CustomerCreate(StrictModel):
    external_id: str = Field(min_length=1, max_length=255, description="Your own id for this customer.")
    name: str | None = Field(default=None, max_length=255)
    email: Email | None = None
    currency: Unit | None = Field(default=None, description="The first wallet's unit; default from config.")
    timezone: Timezone = "UTC"
    credit_limit: Amount = Field(default=0, description="Overdraft allowed on the first wallet.")
    metadata: Metadata = Field(default_factory=dict)
    net_terms_days: NetTerms | None = None


class CustomerUpdate(StrictModel):
    """Only the fields sent change. name and email may be cleared with null; timezone and metadata not."""

    name: str | None = Field(default=None, max_length=255)
    email: Email | None = None
    timezone: Timezone | None = None
    metadata: Metadata | None = None
    net_terms_days: NetTerms | None = Field(default=None, description="null: back to the configured default.")

    @field_validator("timezone", "metadata")
    @classmethod
    def _not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("must not be null")
        return value


class CustomerOut(BaseModel):
    object: Literal["customer"] = "customer"
    id: str
    external_id: str
    name: str | None
    email: str | None
    currency: str
    timezone: str
    metadata: dict[str, str]
    net_terms_days: int | None = Field(description="null: CREDITFLOW_INVOICE_NET_TERMS_DAYS applies.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, customer: Customer) -> CustomerOut:
        return cls(
            id=customer.id, external_id=customer.external_id, name=customer.name, email=customer.email,
            currency=customer.currency, timezone=customer.timezone, metadata=customer.metadata,
            net_terms_days=customer.net_terms_days, created_at=customer.created_at, updated_at=customer.updated_at,
        )
