"""Closed usage periods: once a customer's month is closed, its deferred usage has been invoiced and no
event may land in it any more."""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, Table

from creditflow.db.tables.base import ID, metadata
from creditflow.db.types import UTCDateTime

usage_closes = Table(
    "usage_closes",
    metadata,
    Column("customer_id", ID, ForeignKey("customers.id"), primary_key=True),
    Column("period_start", UTCDateTime(), primary_key=True),
    Column("period_end", UTCDateTime(), nullable=False),
    Column("closed_at", UTCDateTime(), nullable=False),
    Index(None, "customer_id", "period_end"),
)
