"""Prometheus metrics: defined once here, updated where things happen, rendered by GET /metrics.

With several HTTP worker processes (`serve --workers N`), `serve` points PROMETHEUS_MULTIPROC_DIR at a
fresh directory before the workers start, so prometheus-client keeps each process's values in files
there and a scrape of any worker reports the sum over all of them. The variable must be set before
this module is first imported in a process, which is why `serve` sets it and workers inherit it.
"""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as prometheus_multiprocess
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
# Latencies from 1 ms (a group-committed debit) to 10 s (a gateway call at its timeout).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512)
# Where the ledger operations of an open transaction wait for its commit (see count_operations).
_PENDING_KINDS = "creditflow_pending_operation_kinds"

http_requests = Counter(
    "creditflow_http_requests", "HTTP requests answered, by route template and status.", ["method", "route", "status"]
)
http_latency = Histogram(
    "creditflow_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["method", "route"], buckets=LATENCY_BUCKETS,
)
group_commit_batch_size = Histogram(
    "creditflow_group_commit_batch_size", "Requests carried by one group-committed transaction.",
    ["committer"], buckets=BATCH_BUCKETS,
)
group_commit_wait = Histogram(
    "creditflow_group_commit_wait_seconds", "Time a request waited in the queue before its batch started.",
    ["committer"], buckets=LATENCY_BUCKETS,
)
ledger_operations = Counter(
    "creditflow_ledger_operations", "Ledger operations committed, by kind (grant, debit, hold, capture, ...).", ["kind"]
)
payment_required = Counter(
    "creditflow_payment_required", "402 answers, by reason (the error code, e.g. insufficient_funds).", ["reason"]
)
idempotency_replays = Counter(
    "creditflow_idempotency_replays", "Requests answered from a stored response (Idempotent-Replayed: true)."
)
job_runs = Counter("creditflow_job_runs", "Job runs, by job.", ["job"])
job_failures = Counter("creditflow_job_failures", "Job runs that raised, by job.", ["job"])
job_duration = Histogram(
    "creditflow_job_duration_seconds", "Time one run of a job took.", ["job"], buckets=(*LATENCY_BUCKETS, 30.0, 60.0)
)
db_pool_in_use = Gauge(
    "creditflow_db_pool_connections_in_use", "Database connections checked out of the pool.",
    multiprocess_mode="livesum",
)


def is_multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROCESS_ENV))


def instrument_engine(engine: AsyncEngine) -> None:
    """Follow the pool's checkouts and count ledger operations only when their transaction commits."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkout")
    def _checkout(*_: Any) -> None:
        db_pool_in_use.inc()

    @event.listens_for(sync_engine, "checkin")
    def _checkin(*_: Any) -> None:
        db_pool_in_use.dec()

    @event.listens_for(sync_engine, "commit")
    def _commit(conn: Any) -> None:
        pending: Tally[str] | None = conn.info.pop(_PENDING_KINDS, None)
        if pending:
            for kind, count in pending.items():
                ledger_operations.labels(kind).inc(count)

    @event.listens_for(sync_engine, "rollback")
    def _rollback(conn: Any) -> None:
        conn.info.pop(_PENDING_KINDS, None)


def count_operations(conn: AsyncConnection, kinds: Iterable[str]) -> None:
    """Note operations written in `conn`'s transaction; they are counted if it commits (instrument_engine)."""
    pending = conn.sync_connection.info.setdefault(_PENDING_KINDS, Tally()) if conn.sync_connection else None
    if pending is not None:
        pending.update(kinds)


def mark_process_dead() -> None:
    """A stopping worker's live gauges leave the multiprocess sum."""
    if is_multiprocess():
        prometheus_multiprocess.mark_process_dead(os.getpid())


def render(extra: list[GaugeMetricFamily]) -> bytes:
    """Every metric in the text exposition format, plus gauges read from the database for this scrape."""
    if is_multiprocess():
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    scrape = CollectorRegistry()
    scrape.register(_Fixed(extra))
    return body + generate_latest(scrape)


class _Fixed:
    def __init__(self, families: list[GaugeMetricFamily]) -> None:
        self._families = families

    def collect(self) -> list[GaugeMetricFamily]:
        return self._families
