"""CSRF for cookie-authenticated writes: a per-session token (form field or header) and a same-origin Origin.

Bearer-authenticated requests (API keys, JWTs) carry no ambient credential, so they need neither.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from fastapi import Request

from creditflow.config import Settings
from creditflow.errors import Forbidden

FORM_FIELD = "csrf_token"
HEADER = "X-CSRF-Token"


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def own_origin(request: Request, settings: Settings) -> str:
    return _origin_of(settings.public_url or str(request.base_url))


def same_origin(request: Request, settings: Settings) -> bool:
    """Whether the browser says the write comes from one of our own pages.

    Sec-Fetch-Site first: under Referrer-Policy: no-referrer (which the pages send) a browser's form POST
    carries `Origin: null` and no Referer, so those only decide for clients that send no fetch metadata."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site == "same-origin"
    sent = request.headers.get("origin") or request.headers.get("referer")
    return bool(sent) and _origin_of(sent) in {own_origin(request, settings), _origin_of(str(request.base_url))}


def check_csrf(request: Request, settings: Settings, expected: str, sent: str | None) -> None:
    if not same_origin(request, settings):
        raise Forbidden("this form was sent from another site; reload the page and try again", param="origin")
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden("the form has expired or its security token is missing; reload the page", param=FORM_FIELD)
