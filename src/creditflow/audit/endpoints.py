"""GET /v1/audit_events: the append-only log of operator changes (there is no route that edits it)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from creditflow.audit import service
from creditflow.audit.schemas import AuditEventOut
from creditflow.http.deps import PageDep, TxDep, require_operator
from creditflow.http.schemas import Page, page_of
from creditflow.http.unit_of_work import UnitOfWorkRoute

router = APIRouter(
    prefix="/v1/audit_events", tags=["audit"], route_class=UnitOfWorkRoute, dependencies=[require_operator]
)


@router.get("", response_model=Page[AuditEventOut])
async def list_audit_events(
    tx: TxDep,
    page: PageDep,
    actor: Annotated[str | None, Query(description="An operator key id (key_...) or console user id.")] = None,
    resource: Annotated[str | None, Query(description="A resource id (cus_...) or type (customer).")] = None,
    since: Annotated[datetime | None, Query(alias="from", description="Inclusive.")] = None,
    until: Annotated[datetime | None, Query(alias="to", description="Exclusive.")] = None,
) -> Page[AuditEventOut]:
    """Newest first."""
    found = await service.list_events(
        tx, actor=actor, resource=resource, since=since, until=until, limit=page.fetch,
        starting_after=page.starting_after,
    )
    return page_of([AuditEventOut.of(event) for event in found], page.limit)
