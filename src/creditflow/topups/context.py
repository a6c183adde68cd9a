"""What a top-up flow needs beyond one transaction: a gateway call is never made inside one (DESIGN.md, 5),
so flows open their own short transactions around it instead of running in the request's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncEngine

from creditflow.clock import Clock
from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.invoices.models import Issuer
from creditflow.payments.gateways.registry import GatewayRegistry


@dataclass(frozen=True, slots=True)
class Context:
    engine: AsyncEngine
    clock: Clock
    settings: Settings
    gateways: GatewayRegistry
    actor: str

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Tx]:
        """One short transaction, committed on exit (rolled back on an exception), at the clock's now."""
        async with self.engine.begin() as conn:
            yield Tx(conn=conn, now=self.clock.now(), actor=self.actor)

    @property
    def issuer(self) -> Issuer:
        return Issuer.from_settings(self.settings)


def request_context(request: Request, actor: str) -> Context:
    state = request.app.state
    return Context(
        engine=state.engine, clock=state.clock, settings=state.settings, gateways=state.gateways, actor=actor
    )
