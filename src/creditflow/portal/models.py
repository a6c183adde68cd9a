"""Who a portal request acts for, and the portal's token kinds and flows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from creditflow.web.sessions import WebSession


class Via(StrEnum):
    SESSION = "session"
    JWT = "jwt"
    API_KEY = "api_key"


class TokenKind(StrEnum):
    LINK = "link"
    JTI = "jti"
    RESET = "reset"


class Flow(StrEnum):
    """The page an operator-minted link opens."""

    OVERVIEW = "overview"
    TOPUP = "topup"
    API_KEYS = "api_keys"
    USAGE = "usage"
    INVOICES = "invoices"


FLOW_PATHS = {
    Flow.OVERVIEW: "/portal", Flow.TOPUP: "/portal/buy", Flow.API_KEYS: "/portal/api-keys",
    Flow.USAGE: "/portal/usage", Flow.INVOICES: "/portal/invoices",
}


@dataclass(frozen=True, slots=True)
class Principal:
    """The one customer a portal request may see. A read-only API key cannot change anything."""

    customer_id: str
    via: Via
    can_manage: bool
    session: WebSession | None = None
    # A session cookie rides along on every request the browser makes: its writes need CSRF checks.
    from_cookie: bool = False


@dataclass(frozen=True, slots=True)
class UsedToken:
    customer_id: str
    flow: str | None
    return_url: str | None


@dataclass(frozen=True, slots=True)
class PortalLink:
    url: str
    expires_at: datetime
