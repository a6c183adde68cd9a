"""The job runner: inside `serve` by default, or alone as `creditflow worker`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

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
from creditflow.payments.gateways.registry import GatewayRegistry, build_gateways
from creditflow.reports.daily import summarize_day
from creditflow.subscriptions.renewals import renew_due
from creditflow.topups import jobs as topup_jobs
from creditflow.topups.context import Context
from creditflow.webhooks.jobs import deliver_due as deliver_webhooks

log = logging.getLogger("creditflow.jobs")


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
        # `serve` passes the app's gateways (the sandbox remembers outcomes in its process); `worker` builds its own.
        self._topups = Context(
            engine=engine, clock=clock, settings=settings,
            gateways=gateways if gateways is not None else build_gateways(settings, clock=clock),
            actor=topup_jobs.JOB_ACTOR,
        )

    async def run_once(self) -> int:
        """One pass of every periodic job; returns the number of wallets swept."""
        now = self._clock.now()
        swept = await sweep_due_wallets(self._engine, now)
        await purge_idempotency_keys(self._engine, now)
        await topup_jobs.reconcile_pending(self._topups)
        await topup_jobs.expire_unpaid(self._topups)
        await topup_jobs.retry_pending_refunds(self._topups)
        await renew_due(self._engine, self._clock, self._topups.issuer, grace=self._grace)
        await run_daily(self._engine, self._daily_summary, now, self._name)
        await close_due(self._engine, self._clock, self._topups.issuer, late_window=self._late_window,
                        grace=self._grace)
        await collect_all(self._engine, self._clock)
        await mark_overdue(self._engine, self._clock, hour=self._settings.invoice_overdue_hour,
                           timezone=self._settings.seller_timezone)
        await check_balances(self._engine, now)
        await run_auto_topups(self._topups)
        await deliver_pending(self._engine, self._clock, self._settings)
        # Last, so events the jobs above emitted go out in this same pass.
        await deliver_webhooks(self._engine, self._clock)
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
