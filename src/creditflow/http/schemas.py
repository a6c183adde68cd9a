"""Shapes shared by every endpoint: strict request models, list pages, metadata."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

T = TypeVar("T")

MAX_METADATA_KEYS = 50


def _check_metadata(value: dict[str, str]) -> dict[str, str]:
    if len(value) > MAX_METADATA_KEYS:
        raise ValueError(f"at most {MAX_METADATA_KEYS} metadata keys")
    for key, item in value.items():
        if not 0 < len(key) <= 40:
            raise ValueError("metadata keys are 1 to 40 characters")
        if len(item) > 500:
            raise ValueError("metadata values are at most 500 characters")
    return value


Metadata = Annotated[dict[str, str], AfterValidator(_check_metadata)]


class StrictModel(BaseModel):
    """Request bodies: unknown fields are a 422, never silently ignored.

    Only a JSON object is one: FastAPI validates bodies with from_attributes, which would otherwise take any
    value (the body `1.5`) for an object whose fields all have defaults.
    """

    model_config = ConfigDict(extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _an_object(cls, data: Any) -> Any:
        if not isinstance(data, dict | BaseModel):
            raise ValueError("must be a JSON object")
        return data


class Page(BaseModel, Generic[T]):
    object: str = "list"
    data: list[T]
    has_more: bool


def page_of(items: list[T], limit: int) -> Page[T]:
    return Page[T](data=items[:limit], has_more=len(items) > limit)


# A customer API key id on a spend (debit, hold, event): usage and budgets are then tracked per key.
ApiKeyRef = Annotated[
    str | None, Field(max_length=40, description="Id of the customer API key this spend is made with.")
]
