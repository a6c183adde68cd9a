"""Settings: every knob is a CREDITFLOW_* environment variable, also read from a `.env` file in the working
directory (a variable set in the environment wins over the file)."""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from creditflow.money import PositiveAmount, Unit, normalize_unit
from creditflow.topups.rules import DEFAULT_TOPUP_RULES, TopupRule, check_rule_currencies


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CREDITFLOW_", extra="ignore", env_file=".env", env_file_encoding="utf-8"
    )

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
    max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body; a larger one gets 413 payload_too_large."
    )
    events_late_window_hours: int = Field(
        default=24, ge=0, description="How old an event's timestamp may be and still be accepted."
    )
    redis_url: str | None = Field(
        default=None, description="redis://host:6379/0 shares customer-key rate limits across processes."
    )
    jobs_enabled: bool = Field(default=True, description="Run the job runner inside `serve`.")
    log_format: Literal["text", "json"] = Field(
        default="text", description="json: one JSON object a line (time, level, logger, request_id, message)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    metrics_open_to: str = Field(
        default="", description="Comma-separated networks (10.0.0.0/8) that may GET /metrics without a key."
    )
    expiry_sweep_interval_seconds: float = Field(default=30.0, gt=0)
    seller_name: str | None = Field(default=None, description="Your business name, printed on invoices.")
    seller_address: str | None = Field(default=None, description="Your postal address, printed on invoices.")
    seller_tax_id: str | None = Field(default=None, description="Your VAT, GST or NPWP number.")
    seller_email: str | None = Field(default=None, description="The billing contact printed on invoices.")
    seller_timezone: str = Field(default="UTC", description="Time zone whose calendar year numbers invoices.")
    invoice_net_terms_days: int = Field(
        default=30, ge=0, le=365, description="Days an invoice with something due may stay unpaid (per customer too)."
    )
    invoice_overdue_hour: int = Field(
        default=9, ge=0, le=23, description="The hour of the seller's day at which unpaid invoices become overdue."
    )
    invoice_number_prefix: str = Field(
        default="CF", pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,19}$", description="CF gives CF-2026-000042."
    )
    public_url: str | None = Field(
        default=None, description="Where browsers reach this server (sandbox checkout links); default http://host:port."
    )
    gateway_timeout_seconds: float = Field(default=10.0, gt=0, description="Longest wait for a payment gateway.")
    sandbox_enabled: bool = Field(default=True, description="Offer the built-in sandbox gateway (no money moves).")
    sandbox_secret: SecretStr | None = Field(
        default=None, description="Signs sandbox checkout links and notifications; default: derived from database_url."
    )
    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = Field(
        default=None, description="whsec_...; two, comma-separated (new,old), while rotating."
    )
    stripe_api_base: str | None = Field(default=None, description="Another Stripe API address (a local test server).")
    razorpay_key_id: str | None = None
    razorpay_key_secret: SecretStr | None = None
    razorpay_webhook_secret: SecretStr | None = Field(
        default=None, description="Two, comma-separated (new,old), while rotating."
    )
    razorpay_api_base: str | None = None
    midtrans_server_key: SecretStr | None = None
    midtrans_client_key: str | None = None
    midtrans_production: bool = Field(default=False, description="Use Midtrans production instead of its sandbox.")
    midtrans_snap_base: str | None = None
    midtrans_core_base: str | None = None
    topup_rules: dict[str, TopupRule] = Field(
        default_factory=lambda: dict(DEFAULT_TOPUP_RULES),
        description="JSON keyed by currency: {min, max, tax {name, rate, mode}, bonus_tiers [{min, percent}], "
        "credit_unit, credit_rate}; replaces the defaults (IDR and INR).",
    )
    topup_expires_in: int = Field(default=3600, ge=60, description="Seconds a top-up's checkout stays payable.")
    topup_reconcile_after_minutes: int = Field(
        default=15, ge=1, description="Pending top-ups older than this are checked with their gateway."
    )

    auto_create_customers: bool = Field(
        default=False, description="POST /v1/events and /v1/authorize create an unknown customer (default currency)."
    )
    low_balance_thresholds: dict[Unit, PositiveAmount] = Field(
        default_factory=dict,
        description='JSON keyed by unit, {"INR": "50", "IDR": "10000"}: the low-balance alert of every new wallet.',
    )

    smtp_host: str | None = Field(default=None, description="SMTP server for emails; unset: none are sent.")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = Field(default="billing@localhost", description="The From address of every email.")
    smtp_starttls: bool = False
    smtp_timeout_seconds: float = Field(default=10.0, gt=0)
    lago_block_at_zero: bool = Field(
        default=False,
        description="Lago API (/api/v1): refuse an event its wallet cannot cover (402) instead of Lago's behaviour, "
        "which charges what the wallet covers and leaves the rest as an amount due.",
    )
    subscription_grace_days: int = Field(
        default=3, ge=0, description="Days a past_due subscription is retried (daily) before it is suspended."
    )

    brand_name: str = Field(default="creditflow", max_length=80, description="The name portal pages show.")
    brand_logo_url: str | None = Field(
        default=None, description="A logo for portal pages: a path on this server, or an https URL."
    )
    brand_accent_color: str = Field(
        default="#4f46e5", pattern=r"^#[0-9a-fA-F]{6}$", description="The portal's accent colour, #rrggbb."
    )
    portal_locale: str = Field(
        default="", description="Locale of portal numbers (Babel), e.g. en_GB; default: the currency's home locale."
    )
    portal_session_hours: int = Field(default=12, ge=1, le=720, description="How long a portal session lasts.")
    portal_signup: bool = Field(default=False, description="Offer built-in end-user accounts (sign up, log in).")
    portal_default_plan: str | None = Field(default=None, description="Plan a new sign-up is subscribed to.")
    portal_first_key: bool = Field(default=False, description="Give each new sign-up a first API key, shown once.")
    portal_allow_sandbox: bool = Field(
        default=False, description="Offer the sandbox gateway on the portal (never in production: fake money)."
    )
    portal_jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret (>= 32 bytes) of customer JWTs."
    )
    portal_jwt_jwks_url: str | None = Field(default=None, description="JWKS of RS256/ES256 customer JWTs.")
    portal_jwt_issuer: str | None = Field(default=None, description="Required `iss` (required with a JWKS URL).")
    portal_jwt_audience: str | None = Field(default=None, description="Required `aud` (required with a JWKS URL).")
    portal_jwt_customer_claim: str = Field(default="sub", description="The JWT claim holding the external_id.")
    portal_frame_ancestors: str = Field(
        default="", description="Space-separated origins allowed to frame the portal; empty: 'none'."
    )
    portal_return_origins: str = Field(default="", description="Space-separated origins a portal return_url may use.")
    cors_origins: str = Field(default="", description="Space-separated origins allowed to call /v1/portal from JS.")
    trusted_proxies: str = Field(default="", description="Space-separated proxy IPs whose X-Forwarded-For is believed.")
    portal_signup_per_hour: int = Field(default=10, ge=1, description="Sign-ups allowed per client IP per hour.")
    portal_login_per_15min: int = Field(
        default=10, ge=1, description="Log-in attempts allowed per account and per IP in 15 minutes."
    )

    @field_validator("portal_jwt_secret")
    @classmethod
    def _jwt_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("the portal JWT secret must be at least 32 bytes")
        return value

    @model_validator(mode="after")
    def _one_jwt_mode(self) -> Settings:
        if self.portal_jwt_secret is not None and self.portal_jwt_jwks_url:
            raise ValueError("set CREDITFLOW_PORTAL_JWT_SECRET or CREDITFLOW_PORTAL_JWT_JWKS_URL, not both")
        if self.portal_jwt_jwks_url and not (self.portal_jwt_issuer and self.portal_jwt_audience):
            raise ValueError("a JWKS URL needs CREDITFLOW_PORTAL_JWT_ISSUER and CREDITFLOW_PORTAL_JWT_AUDIENCE")
        return self

    @field_validator("default_currency")
    @classmethod
    def _unit(cls, value: str) -> str:
        return normalize_unit(value)

    @field_validator("topup_rules")
    @classmethod
    def _topup_rules(cls, value: dict[str, TopupRule]) -> dict[str, TopupRule]:
        return check_rule_currencies(value)

    @field_validator("seller_timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"'{value}' is not an IANA time zone such as Asia/Jakarta") from None
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
