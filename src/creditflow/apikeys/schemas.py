"""Customer API key request and response bodies, and the verify answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, Field

from creditflow import money
from creditflow.apikeys.service import CustomerApiKey, Verified
from creditflow.budgets.schemas import BudgetSummary
from creditflow.http.schemas import StrictModel


class RateLimit(StrictModel):
    requests: int = Field(ge=1, le=1_000_000, description="Requests allowed per `per`.")
    per: Literal["second", "minute"]


class ApiKeyCreate(StrictModel):
    name: str = Field(min_length=1, max_length=200, description="What this key is for.")
    expires_at: AwareDatetime | None = Field(default=None, description="Default: never.")
    rate_limit: RateLimit | None = Field(default=None, description="Enforced by verify; default: unlimited.")
    scopes: list[Literal["manage"]] = Field(
        default_factory=list, description='"manage": the key may also make changes on /v1/portal; default read-only.'
    )


class ApiKeyOut(BaseModel):
    object: Literal["api_key"] = "api_key"
    id: str
    customer: str
    name: str
    prefix: str = Field(description="The secret's first characters, to recognise it.")
    status: Literal["active", "revoked", "expired"]
    expires_at: datetime | None
    rate_limit: RateLimit | None
    scopes: list[str]
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, key: CustomerApiKey, now: datetime) -> ApiKeyOut:
        return cls(**_fields(key, now))


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret, shown this once: creditflow keeps only its SHA-256.")

    @classmethod
    def created(cls, key: CustomerApiKey, secret: str, now: datetime) -> ApiKeyCreated:
        return cls(**_fields(key, now), key=secret)


def _fields(key: CustomerApiKey, now: datetime) -> dict[str, object]:
    rate_limit = None
    if key.rate_limit_requests is not None and key.rate_limit_per is not None:
        rate_limit = RateLimit(requests=key.rate_limit_requests, per=key.rate_limit_per)  # type: ignore[arg-type]
    return {
        "id": key.id, "customer": key.customer_id, "name": key.name, "prefix": key.prefix,
        "status": key.status(now), "expires_at": key.expires_at, "rate_limit": rate_limit,
        "scopes": list(key.scopes), "created_at": key.created_at, "revoked_at": key.revoked_at,
    }


class VerifyRequest(StrictModel):
    key: str = Field(min_length=1, max_length=200, description="The customer's API key, as sent to your API.")


class VerifiedApiKey(BaseModel):
    id: str
    name: str


class VerifiedWallet(BaseModel):
    currency: str
    available: str = Field(description="What the customer can spend now, in the customer's currency.")


class VerifyValid(BaseModel):
    valid: Literal[True] = True
    customer: str = Field(description="The customer's id.")
    api_key: VerifiedApiKey
    budget: BudgetSummary | None = Field(default=None, description="The tightest budget the key's spend counts on.")
    wallet: VerifiedWallet

    @classmethod
    def of(cls, verified: Verified) -> VerifyValid:
        state = verified.wallet.state
        return cls(
            customer=verified.customer.id,
            api_key=VerifiedApiKey(id=verified.key.id, name=verified.key.name),
            budget=BudgetSummary.of(verified.budget),
            wallet=VerifiedWallet(currency=state.unit, available=money.format(state.available, state.unit)),
        )


class VerifyInvalid(BaseModel):
    valid: Literal[False] = False
    reason: Literal["invalid_key"] = "invalid_key"
