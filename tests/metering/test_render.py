"""The batch endpoint reads and writes events without a pydantic model per event: what it reads must be what
EventCreate reads, and what it writes must be EventOut's document."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from pydantic import ValidationError

from creditflow.errors import DomainError
from creditflow.metering.endpoints import _event_request, _request
from creditflow.metering.models import EventResult
from creditflow.metering.schemas import EventCreate, EventDocuments, EventOut

NOW = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)


def _result(**overrides) -> EventResult:
    fields = dict(
        id="evt_1", customer_id="cus_1", metric="calls", transaction_id="t-1", timestamp=NOW,
        properties={"model": "gpt-4o", "n": 3}, quantity=1_000_000, cost=2_500_001, currency="USD", price_id="prc_1",
        operation_id="op_1", refunded=0, created_at=NOW, available=-1_250_000,
    )
    fields.update(overrides)
    return EventResult(**fields)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"available": None, "duplicate": True, "refunded": 2_500_001},
        {"currency": None, "cost": 0, "price_id": None, "operation_id": None, "available": None, "quantity": 7},
        {"currency": "CREDITS", "cost": -4_500_000, "available": 12},
        {"timestamp": datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2))), "created_at": NOW.replace(
            microsecond=0)},
    ],
)
def test_event_documents_are_eventout_documents(overrides):
    result = _result(**overrides)
    documents = EventDocuments()
    assert documents(result) == json.loads(EventOut.of(result).model_dump_json())
    # Formatted once per batch, and still right the second time.
    assert documents(result) == json.loads(EventOut.of(result).model_dump_json())


ITEMS = [
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t1"},
    {"customer": "ext-1", "metric": "calls", "transaction_id": "t" * 255, "properties": {}, "api_key": None},
    {"customer": "cus_1", "metric": "tokens", "transaction_id": "t2", "properties": {"tokens": "12.5", "ok": True,
                                                                                     "n": 3, "none": None}},
    {"customer": "cus_1", "metric": "tokens", "transaction_id": "t3", "properties": {"tokens": Decimal("0.1")}},
    {"customer": "cus_1", "metric": "tokens", "transaction_id": "t4", "properties": {"nested": {"a": [1, "b"]}}},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t5", "timestamp": "2026-03-01T10:00:00Z"},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t6", "timestamp": 1772359200},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t7", "timestamp": None, "api_key": "cak_1"},
    # Refused, by EventCreate itself:
    {"customer": "cus_1", "metric": "calls"},
    {"customer": "cus_1", "metric": "calls", "transaction_id": ""},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t" * 256},
    {"customer": 7, "metric": "calls", "transaction_id": "t8"},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t9", "extra": 1},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t10", "properties": None},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t11", "properties": [1]},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t12", "api_key": "k" * 41},
    {"customer": "cus_1", "metric": "calls", "transaction_id": "t13", "timestamp": "yesterday"},
]


@pytest.mark.parametrize("item", ITEMS)
def test_batch_items_read_as_eventcreate_reads_them(item):
    read = _event_request(dict(item), "key:1")
    try:
        expected = _request(EventCreate.model_validate(item), "key:1")
    except ValidationError as exc:
        first = exc.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        assert isinstance(read, DomainError)
        assert (read.param, read.message) == (param, f"{param}: {first['msg']}")
        return
    assert read == expected
