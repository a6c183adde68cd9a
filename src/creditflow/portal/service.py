"""Getting into the portal: operator-minted links, customer JWTs, API keys and sessions, all ending in one
Principal scoped to one customer."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from creditflow.apikeys.service import KEY_PREFIX, find_active_key
from creditflow.config import Settings
from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, NotFound, Unauthenticated
from creditflow.payments.gateways.registry import GatewayRegistry, public_url
from creditflow.portal import repository
from creditflow.portal.jwt_auth import looks_like_jwt, verify_customer_jwt
from creditflow.portal.models import Flow, PortalLink, Principal, TokenKind, UsedToken, Via
from creditflow.web.sessions import WebSession, find_session, start_session

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


class LinkUnusable(InvalidRequest):
    """A portal link that was already used or has expired: the page says so, never a stack trace."""

    code = "portal_link_unusable"


def check_return_url(settings: Settings, url: str) -> str:
    """https (http only on localhost) on an origin the operator listed in CREDITFLOW_PORTAL_RETURN_ORIGINS."""
    parts = urlsplit(url)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOCAL_HOSTS)
    origin = f"{parts.scheme}://{parts.netloc}"
    if not secure or not parts.netloc:
        raise InvalidRequest("return_url must be an https URL (http only on localhost)", param="return_url")
    if origin not in settings.portal_return_origins.split():
        raise InvalidRequest(
            f"return_url's origin {origin} is not in CREDITFLOW_PORTAL_RETURN_ORIGINS", param="return_url"
        )
    return url


async def mint_link(
    tx: Tx, settings: Settings, customer_ref: str, *, expires_in: int, flow: Flow, return_url: str | None
) -> PortalLink:
    """A single-use URL that opens a portal session for the customer; only the token's hash is kept."""
    customer = await get_customer(tx, customer_ref)
    if return_url is not None:
        check_return_url(settings, return_url)
    token = secrets.token_urlsafe(32)
    expires_at = tx.now + timedelta(seconds=expires_in)
    await repository.add_token(tx, token, TokenKind.LINK, customer.id, expires_at, flow=flow, return_url=return_url)
    return PortalLink(url=f"{public_url(settings)}/portal?token={token}", expires_at=expires_at)


async def open_link(tx: Tx, settings: Settings, token: str) -> tuple[WebSession, str, UsedToken]:
    """Exchange a link token (or a customer JWT, once per jti) for a new session."""
    if looks_like_jwt(token):
        customer_id, expires_at, jti = await _jwt_customer(tx, settings, token)
        if jti is None:
            raise LinkUnusable("a token opening a portal session needs a jti claim (it is used once)")
        # The jti is kept until the token expires: one exchange per token, like a link.
        fresh = await repository.add_token(tx, f"jti:{jti}", TokenKind.JTI, customer_id, expires_at)
        used = await repository.use_token(tx, f"jti:{jti}", TokenKind.JTI) if fresh else None
        via = Via.JWT
    else:
        used = await repository.use_token(tx, token, TokenKind.LINK)
        via = Via.SESSION
    if used is None:
        raise LinkUnusable("this portal link was already used or has expired; ask for a new one")
    session, secret = await start_session(
        tx, used.customer_id, via=via, lifetime=timedelta(hours=settings.portal_session_hours)
    )
    return session, secret, used


async def _jwt_customer(tx: Tx, settings: Settings, token: str) -> tuple[str, datetime, str | None]:
    claims = verify_customer_jwt(settings, token, tx.now)
    customer_id = await repository.customer_id_by_external_id(tx, claims[settings.portal_jwt_customer_claim])
    if customer_id is None:
        raise Unauthenticated("the customer token names no customer of this server")
    expires_at = datetime.fromtimestamp(claims["exp"], tx.now.tzinfo)
    jti = claims.get("jti")
    return customer_id, expires_at, jti if isinstance(jti, str) and jti else None


async def authenticate(tx: Tx, settings: Settings, bearer: str | None, cookie: str | None) -> Principal:
    """The customer behind a bearer credential (API key, JWT, JSON-login session token) or a session cookie."""
    if bearer:
        if bearer.startswith(KEY_PREFIX):
            key = await find_active_key(tx, bearer)
            if key is None:
                raise Unauthenticated("the customer API key is not valid, has expired or has been revoked")
            return Principal(key.customer_id, Via.API_KEY, can_manage="manage" in key.scopes)
        if looks_like_jwt(bearer):
            customer_id, _, _ = await _jwt_customer(tx, settings, bearer)
            return Principal(customer_id, Via.JWT, can_manage=True)
        session = await find_session(tx, bearer)
        if session is None:
            raise Unauthenticated("the portal credential is not valid or has expired")
        return Principal(session.customer_id, Via.SESSION, can_manage=True, session=session)
    session = await find_session(tx, cookie)
    if session is None:
        raise Unauthenticated(
            "send a customer API key, a customer JWT or a portal session token as 'Authorization: Bearer ...'"
        )
    return Principal(session.customer_id, Via.SESSION, can_manage=True, session=session, from_cookie=True)


def not_yours(kind: str, ref: str) -> NotFound:
    """What a customer gets for another customer's resource: the same answer as for one that does not exist."""
    return NotFound(f"no {kind} '{ref}'", param="id")


def portal_gateways(gateways: GatewayRegistry, settings: Settings) -> list[str]:
    """The configured gateways, minus the sandbox unless allowed: anyone who signs up could pay with fake money."""
    return [name for name in gateways.names() if name != "sandbox" or settings.portal_allow_sandbox]


def check_portal_gateway(gateways: GatewayRegistry, settings: Settings, name: str) -> None:
    offered = portal_gateways(gateways, settings)
    if name not in offered:
        raise InvalidRequest(
            f"'{name}' is not a payment gateway of this portal; one of: {', '.join(offered) or 'none configured'}",
            param="gateway",
        )
