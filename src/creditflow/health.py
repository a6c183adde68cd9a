"""Liveness and readiness probes, and the service's front door `GET /` (no authentication)."""

from __future__ import annotations

from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection

from creditflow import __version__
from creditflow.db.migrate import alembic_config

router = APIRouter(prefix="/health", tags=["health"])
root_router = APIRouter(tags=["health"])


@root_router.get("/")
async def service_index() -> dict[str, object]:
    """What answers here: a newcomer opening the base URL finds the documentation rather than a 404."""
    return {
        "name": "creditflow", "version": __version__,
        "links": {"docs": "/docs", "openapi": "/openapi.json", "ready": "/health/ready", "live": "/health/live"},
    }


@cache
def code_head() -> str | None:
    """The newest migration this code ships (read once: the scripts do not change while it runs)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _revision(conn: AsyncConnection) -> str | None:
    try:
        return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    except DBAPIError:
        return None  # not migrated yet: reported as such, the database itself answered


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """Ready when the database answers. Jobs and migrations are reported, never a reason to be unready."""
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
            revision = await _revision(conn)
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    settings = request.app.state.settings
    jobs: dict[str, Any] = {"enabled": settings.jobs_enabled, "last_pass": request.app.state.jobs.last_pass}
    head = code_head()
    return JSONResponse({
        "status": "ok",
        "database": request.app.state.engine.dialect.name,
        "jobs": jobs,
        "migration": {"database": revision, "code": head, "up_to_date": revision == head},
    })
