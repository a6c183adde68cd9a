"""The FastAPI application: routers, error handlers, and the job runner's lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp

from creditflow import __version__
from creditflow.apikeys.endpoints import router as api_keys_router
from creditflow.apikeys.endpoints import verify_router as api_keys_verify_router
from creditflow.audit.endpoints import router as audit_router
from creditflow.audit.rules import AUDIT_RULES
from creditflow.authorize.endpoints import router as authorize_router
from creditflow.auto_topups.endpoints import router as auto_topups_router
from creditflow.balance_alerts.endpoints import router as balance_alerts_router
from creditflow.budgets.endpoints import alerts_router
from creditflow.budgets.endpoints import router as budgets_router
from creditflow.clock import Clock, SystemClock
from creditflow.config import Settings
from creditflow.coupons.endpoints import router as coupons_router
from creditflow.customers.endpoints import router as customers_router
from creditflow.db.engine import create_engine
from creditflow.debits.endpoints import debit_fast_path, render_debit, set_debit_actor
from creditflow.debits.endpoints import hot_router as debits_hot_router
from creditflow.debits.endpoints import router as debits_router
from creditflow.exports.endpoints import router as exports_router
from creditflow.grants.endpoints import router as grants_router
from creditflow.health import root_router
from creditflow.health import router as health_router
from creditflow.holds.endpoints import router as holds_router
from creditflow.http.body_limit import BodyLimit
from creditflow.http.errors import install_error_handlers
from creditflow.http.fast_path import FastPath
from creditflow.http.group_commit import GroupCommitter
from creditflow.http.observe import Observe
from creditflow.http.openapi import document_errors
from creditflow.invoices.endpoints import router as invoices_router
from creditflow.jobs.runner import JobRunner
from creditflow.lago.endpoints import router as lago_router
from creditflow.lago.money_endpoints import router as lago_money_router
from creditflow.ledger.spend import debit_many
from creditflow.metering.endpoints import router as metering_router
from creditflow.observability import metrics
from creditflow.observability.endpoints import router as metrics_router
from creditflow.payment_methods.endpoints import gateway_router as payment_methods_gateway_router
from creditflow.payment_methods.endpoints import router as payment_methods_router
from creditflow.payments.gateways.registry import GatewayRegistry, build_gateways, public_url
from creditflow.payments.gateways.sandbox import WEBHOOK_PATH, SandboxGateway
from creditflow.payments.sandbox_pages import http_deliver, sandbox_router
from creditflow.portal.endpoints import gateway_router as portal_gateway_router
from creditflow.portal.endpoints import operator_router as portal_sessions_router
from creditflow.portal.endpoints import router as portal_api_router
from creditflow.portal.pages import install_portal
from creditflow.ratelimit import create_rate_limiter
from creditflow.reports.endpoints import router as reports_router
from creditflow.statements.endpoints import router as statements_router
from creditflow.subscriptions.endpoints import plans_router
from creditflow.subscriptions.endpoints import router as subscriptions_router
from creditflow.topups.endpoints import gateway_router as topups_gateway_router
from creditflow.topups.endpoints import packages_router
from creditflow.topups.endpoints import router as topups_router
from creditflow.topups.webhooks import router as webhooks_router
from creditflow.transactions.endpoints import router as transactions_router
from creditflow.wallets.endpoints import router as wallets_router
from creditflow.web.security import PortalHeaders
from creditflow.webhooks.endpoints import endpoints_router as webhook_endpoints_router
from creditflow.webhooks.endpoints import events_router as webhook_events_router
from creditflow.webhooks.endpoints import types_router as webhook_event_types_router

DESCRIPTION = """Prepaid credits and usage billing on an exact double-entry ledger.

Amounts are decimal strings with at most 6 decimal places. Every POST accepts an `Idempotency-Key`.
Errors are `{"error": {"code", "message", "param"}}`."""


class CreditflowAPI(FastAPI):
    """FastAPI behind the body size limit, the hot-path front door (http/fast_path.py), request ids and metrics."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = document_errors(super().openapi())
        return self.openapi_schema

    def build_middleware_stack(self) -> ASGIApp:
        fast_path = FastPath(super().build_middleware_stack(), self.state.fast_routes)
        return Observe(BodyLimit(fast_path, self.state.settings.max_body_bytes), fast_path.serves)


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or Settings()
    engine = create_engine(settings)
    metrics.instrument_engine(engine)
    clock = clock or SystemClock()
    gateways = build_gateways(settings, clock=clock)
    runner = JobRunner(engine, clock, settings, gateways)
    # SQLite has one writer: a second consumer would only wait for the first one's lock.
    debit_committer = GroupCommitter(
        engine, clock, debit_many, render_debit, set_debit_actor,
        consumers=1 if settings.is_sqlite else settings.group_commit_consumers,
        max_batch=settings.group_commit_max_batch, name="debits",
    )
    # Customer-key rate limits: in this process, or shared by every process through Redis when configured.
    rate_limiter = create_rate_limiter(settings.redis_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if settings.jobs_enabled:
            runner.start()
        try:
            yield
        finally:
            await runner.stop()
            await debit_committer.stop()
            await rate_limiter.aclose()
            await engine.dispose()
            metrics.mark_process_dead()

    app = CreditflowAPI(title="creditflow", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.fast_routes = {("POST", "/v1/debits"): debit_fast_path}
    app.state.settings = settings
    app.state.engine = engine
    app.state.clock = clock
    app.state.jobs = runner
    app.state.debit_committer = debit_committer
    app.state.rate_limiter = rate_limiter
    app.state.gateways = gateways
    app.state.audit_rules = AUDIT_RULES
    install_error_handlers(app)
    for router in (
        root_router, health_router, metrics_router, customers_router, wallets_router, grants_router,
        debits_hot_router, debits_router, holds_router, metering_router, invoices_router,
        transactions_router, api_keys_router, api_keys_verify_router, authorize_router, budgets_router,
        alerts_router, packages_router, topups_router, topups_gateway_router, webhooks_router,
        payment_methods_router, payment_methods_gateway_router, plans_router,
        subscriptions_router, reports_router, balance_alerts_router, auto_topups_router,
        coupons_router, statements_router, webhook_endpoints_router, webhook_events_router,
        webhook_event_types_router, audit_router,
        exports_router, portal_sessions_router, portal_api_router, portal_gateway_router,
        lago_router, lago_money_router,
    ):
        app.include_router(router)
    install_portal(app, settings)
    app.add_middleware(PortalHeaders, settings=settings)
    _include_sandbox_checkout(app, gateways, settings)
    return app


def _include_sandbox_checkout(app: FastAPI, gateways: GatewayRegistry, settings: Settings) -> None:
    """The sandbox's checkout page; Pay and Fail post its signed notification to this server's webhook."""
    if "sandbox" not in gateways:
        return
    sandbox = gateways.get("sandbox")
    assert isinstance(sandbox, SandboxGateway)
    app.include_router(sandbox_router(sandbox, http_deliver(public_url(settings) + WEBHOOK_PATH)))


def app_from_env() -> FastAPI:
    """Factory for uvicorn workers: everything comes from CREDITFLOW_* variables."""
    return create_app(Settings())
