"""The job runner: inside `serve` by default, or alone as `creditflow worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.auto_topups.runs import run_auto_topups
from creditflow.balance_alerts.checks import check_balances
from creditflow.billing.collection import collect_all
from creditflow.billing.period_close import close_due
from creditflow.clock import Clock
from creditflow.config import Settings
from creditflow.invoices.jobs import mark_overdue
from creditflow.jobs.expiry import purge_idempotency_keys, sweep_due_wallets
from creditflow.jobs.occurrences import DailyJob, run_daily, runner_name
from creditflow.mail.delivery import deliver_pending
from creditflow.observability import metrics
from creditflow.payments.gateways.registry import GatewayRegistry, build_gateways
from creditflow.reports.daily import summarize_day
from creditflow.subscriptions.renewals import renew_due
from creditflow.topups import jobs as topup_jobs
from creditflow.topups.context import Context
from creditflow.webhooks.jobs import deliver_due as deliver_webhooks

log = logging.getLogger("creditflow.jobs")
T = TypeVar("T")


async def _timed(job: str, run: Awaitable[T]) -> T:
    started = time.perf_counter()
    metrics.job_runs.labels(job).inc()
    try:
        return await run
    except Exception:
        metrics.job_failures.labels(job).inc()
        raise
    finally:
        metrics.job_duration.labels(job).observe(time.perf_counter() - started)


class _Pass:
    def __init__(self, started_at: datetime) -> None:
        self.started_at = started_at
        self._started = time.perf_counter()

    def finish(self, *, ok: bool) -> dict[str, Any]:
        return {"started_at": self.started_at.isoformat(), "ok": ok,
                "duration_seconds": round(time.perf_counter() - self._started, 3)}


class JobRunner:
    def __init__(
        self, engine: AsyncEngine, clock: Clock, settings: Settings, gateways: GatewayRegistry | None = None
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._settings = settings
        self._late_window = timedelta(hours=settings.events_late_window_hours)
        self._interval = settings.expiry_sweep_interval_seconds
        self._grace = timedelta(days=settings.subscription_grace_days)
        self._name = runner_name()
        self._daily_summary = DailyJob(
            "daily_summary", settings.seller_timezone,
            lambda day, start, end: summarize_day(engine, day, start, end, clock.now()),
        )
        self._task: asyncio.Task[None] | None = None
        # Reported by /health/ready: when this process's runner last finished a pass, and whether it failed.
        self.last_pass: dict[str, Any] | None = None
        # `serve` passes the app's gateways (the sandbox remembers outcomes in its process); `worker` builds its own.
        self._topups = Context(
            engine=engine, clock=clock, settings=settings,
            gateways=gateways if gateways is not None else build_gateways(settings, clock=clock),
            actor=topup_jobs.JOB_ACTOR,
        )

    async def run_once(self) -> int:
        """One pass of every periodic job; returns the number of wallets swept."""
        now = self._clock.now()
        passed = _Pass(now)
        try:
            swept = await _timed("expiry_sweep", sweep_due_wallets(self._engine, now))
            await _timed("idempotency_purge", purge_idempotency_keys(self._engine, now))
            await _timed("topup_reconcile", topup_jobs.reconcile_pending(self._topups))
            await _timed("topup_expiry", topup_jobs.expire_unpaid(self._topups))
            await _timed("refund_retry", topup_jobs.retry_pending_refunds(self._topups))
            await _timed("subscription_renewal", renew_due(self._engine, self._clock, self._topups.issuer,
                                                           grace=self._grace))
            await _timed("daily_summary", run_daily(self._engine, self._daily_summary, now, self._name))
            await _timed("period_close", close_due(self._engine, self._clock, self._topups.issuer,
                                                   late_window=self._late_window, grace=self._grace))
            await _timed("collection", collect_all(self._engine, self._clock))
            await _timed("invoice_overdue", mark_overdue(self._engine, self._clock,
                                                         hour=self._settings.invoice_overdue_hour,
                                                         timezone=self._settings.seller_timezone))
            await _timed("balance_alerts", check_balances(self._engine, now))
            await _timed("auto_topups", run_auto_topups(self._topups))
            await _timed("mail_delivery", deliver_pending(self._engine, self._clock, self._settings))
            # Last, so events the jobs above emitted go out in this same pass.
            await _timed("webhook_delivery", deliver_webhooks(self._engine, self._clock))
        except BaseException:
            self.last_pass = passed.finish(ok=False)
            raise
        self.last_pass = passed.finish(ok=True)
        return swept

    async def run_forever(self) -> None:
        while True:
            try:
                swept = await self.run_once()
                if swept:
                    log.info("expiry sweep: %d wallet(s)", swept)
            except Exception:
                # A failed pass is retried on the next tick; the jobs are idempotent.
                log.exception("job pass failed")
            await asyncio.sleep(self._interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run_forever(), name="creditflow-jobs")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
