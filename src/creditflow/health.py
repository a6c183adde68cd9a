"""Liveness and readiness probes, and the service's front door `GET /` (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from creditflow import __version__

router = APIRouter(prefix="/health", tags=["health"])
root_router = APIRouter(tags=["health"])


@root_router.get("/")
async def service_index() -> dict[str, object]:
    """What answers here: a newcomer opening the base URL finds the documentation rather than a 404."""
    return {
        "name": "creditflow", "version": __version__,
        "links": {"docs": "/docs", "openapi": "/openapi.json", "ready": "/health/ready", "live": "/health/live"},
    }


@router.get("/live")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except Exception as exc:
        return JSONResponse({"status": "unavailable", "database": str(exc)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "database": request.app.state.engine.dialect.name})
