"""The job runner's claims on scheduled occurrences, and what the daily job stores."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Integer, String, Table

from creditflow.db.tables.base import metadata
from creditflow.db.types import UTCDateTime

# One row per scheduled occurrence of a calendar job: the primary key is the claim, so with any number of
# runners on one database an occurrence runs once. A runner that dies mid-job leaves the lease to expire.
job_runs = Table(
    "job_runs",
    metadata,
    Column("job", String(60), primary_key=True),
    Column("occurrence_at", UTCDateTime(), primary_key=True),
    Column("runner", String(100), nullable=False),
    Column("claimed_at", UTCDateTime(), nullable=False),
    Column("lease_until", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime()),
)

# One row per day (in the seller's time zone) and currency or credit unit.
daily_reports = Table(
    "daily_reports",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("currency", String(16), primary_key=True),
    Column("topups", Integer, nullable=False),
    Column("topups_amount", BigInteger, nullable=False),
    Column("revenue", BigInteger, nullable=False),
    Column("refunds", BigInteger, nullable=False),
    Column("spend", BigInteger, nullable=False),
    Column("new_customers", Integer, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    CheckConstraint("topups >= 0 AND new_customers >= 0", name="counts_not_negative"),
)
