"""Settings: every knob is a CREDITFLOW_* environment variable."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from creditflow.money import normalize_unit


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CREDITFLOW_", extra="ignore")

    database_url: str = Field(
        default="sqlite+aiosqlite:///./creditflow.db",
        description="SQLAlchemy async URL; postgresql+asyncpg://... switches to PostgreSQL.",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    default_currency: str = "USD"
    db_pool_size: int = Field(default=20, ge=1, description="PostgreSQL connections per process.")
    sqlite_busy_timeout_ms: int = Field(default=30_000, ge=0)
    idempotency_ttl_hours: int = Field(default=24, ge=24, description="How long idempotency keys are kept.")
    idempotency_lease_seconds: int = Field(
        default=60, ge=1, description="How long an in-flight request holds its idempotency key."
    )
    hold_default_expires_in: int = Field(default=600, ge=1)
    hold_max_expires_in: int = Field(default=7 * 24 * 3600, ge=1)
    group_commit_consumers: int = Field(
        default=1, ge=1, description="Batches of debits in flight at once per process (PostgreSQL; SQLite uses 1)."
    )
    group_commit_max_batch: int = Field(default=256, ge=1, description="Most requests one batch may carry.")
    events_late_window_hours: int = Field(
        default=24, ge=0, description="How old an event's timestamp may be and still be accepted."
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 shares customer-key rate limits across processes."
    )
    jobs_enabled: bool = Field(default=True, description="Run the job runner inside `serve`.")
    expiry_sweep_interval_seconds: float = Field(default=30.0, gt=0)

    @field_validator("default_currency")
    @classmethod
    def _unit(cls, value: str) -> str:
        return normalize_unit(value)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
