"""The job runner's claims on scheduled occurrences, and what the daily job stores."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, CheckConstraint, Column, Index, Integer, String, Table

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

# What one customer did in one unit on one day (seller's time zone), written by the daily close job; the
# summary report adds these up per bucket (week and month are stored so both engines can group on them).
ROLLUP_FIGURES = (
    "topups_started", "topups_paid", "topups_failed", "topups_gross", "topups_tax", "refunds_gross", "refunds_tax",
    "granted_paid", "granted_promotional", "consumed", "expired", "credits_refunded", "balance_change",
    "held_change", "new_customer",
)
customer_daily_rollups = Table(
    "customer_daily_rollups",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("unit", String(16), primary_key=True),
    Column("customer_id", String(40), primary_key=True),
    Column("week", String(10), nullable=False),
    Column("month", String(7), nullable=False),
    *(Column(name, BigInteger, nullable=False) for name in ROLLUP_FIGURES),
    Index(None, "unit", "day"),
)

# The summary's figures of each finished bucket (day, ISO week, month) and unit, added up from the rollups above
# by the close job each time it closes one of the bucket's days, so a year of buckets is a few hundred rows.
report_buckets = Table(
    "report_buckets",
    metadata,
    Column("group_by", String(5), primary_key=True),
    Column("bucket", String(10), primary_key=True),
    Column("unit", String(16), primary_key=True),
    *(Column(name, BigInteger, nullable=False) for name in ROLLUP_FIGURES),
    Column("active_customers", BigInteger, nullable=False),
    Column("paying_customers", BigInteger, nullable=False),
    Column("checkout_customers", BigInteger, nullable=False),
    Column("top_customers", JSON, nullable=False),
)
