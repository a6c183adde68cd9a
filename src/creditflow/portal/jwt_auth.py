"""Customer JWTs from the operator's own login (Firebase, Auth0, ...), verified with PyJWT.

One mode only: an HS256 secret (>= 32 bytes) or a JWKS URL (RS256/ES256, keys cached, issuer and audience
required since e.g. every Firebase project shares Google's keys). Algorithms are pinned to the mode, `exp`
is required and may be at most an hour ahead, so a leaked token is short-lived.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import jwt

from creditflow.config import Settings
from creditflow.errors import Unauthenticated

MAX_LIFETIME = timedelta(hours=1)
# Clock differences between the issuer and us that are tolerated on exp, nbf and iat.
LEEWAY_SECONDS = 30
_jwks_clients: dict[str, jwt.PyJWKClient] = {}


def jwt_configured(settings: Settings) -> bool:
    return settings.portal_jwt_secret is not None or bool(settings.portal_jwt_jwks_url)


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("ey")


def _key_and_algorithms(settings: Settings, token: str) -> tuple[Any, list[str]]:
    if settings.portal_jwt_secret is not None:
        return settings.portal_jwt_secret.get_secret_value(), ["HS256"]
    url = settings.portal_jwt_jwks_url
    assert url is not None
    client = _jwks_clients.get(url)
    if client is None:
        client = _jwks_clients[url] = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)
    return client.get_signing_key_from_jwt(token).key, ["RS256", "ES256"]


def verify_customer_jwt(settings: Settings, token: str, now: datetime) -> dict[str, Any]:
    """The token's claims; Unauthenticated with a reason for anything not acceptable."""
    if not jwt_configured(settings):
        raise Unauthenticated("customer JWTs are not enabled on this server")
    try:
        key, algorithms = _key_and_algorithms(settings, token)
        claims: dict[str, Any] = jwt.decode(
            token, key, algorithms=algorithms, audience=settings.portal_jwt_audience,
            issuer=settings.portal_jwt_issuer, leeway=LEEWAY_SECONDS,
            # Time claims are checked below against creditflow's one clock, not the process's wall clock.
            options={
                "require": ["exp"], "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                "verify_aud": settings.portal_jwt_audience is not None,
            },
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise Unauthenticated(f"the customer token is not valid: {error}") from None
    if not isinstance(claims["exp"], int | float):
        raise Unauthenticated("the customer token's exp is not a number")
    if claims["exp"] > (now + MAX_LIFETIME).timestamp() + LEEWAY_SECONDS:
        raise Unauthenticated("the customer token's exp is more than 1 hour ahead; issue shorter-lived tokens")
    if claims["exp"] <= now.timestamp() - LEEWAY_SECONDS:
        raise Unauthenticated("the customer token has expired")
    if not isinstance(claims.get(settings.portal_jwt_customer_claim), str):
        raise Unauthenticated(f"the customer token has no '{settings.portal_jwt_customer_claim}' claim")
    return claims
