"""Headers every portal page and portal API answer carries, and CORS for /v1/portal browser front ends.

A pure ASGI layer that only touches the portal's paths, so the operator API pays nothing for it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from creditflow.config import Settings

PAGE_PREFIXES = ("/portal", "/static/")
API_PREFIX = "/v1/portal"
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-CSRF-Token"


def content_security_policy(settings: Settings) -> str:
    """Everything from this origin only: no CDN, fonts or analytics; framing only by listed origins."""
    ancestors = settings.portal_frame_ancestors.split() or ["'none'"]
    images = ["'self'", "data:"]
    if settings.brand_logo_url and settings.brand_logo_url.startswith("https://"):
        parts = urlsplit(settings.brand_logo_url)
        images.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join([
        "default-src 'self'", "script-src 'self'", "style-src 'self'", f"img-src {' '.join(images)}",
        "connect-src 'self'", "object-src 'none'", "base-uri 'none'", "form-action 'self'",
        f"frame-ancestors {' '.join(ancestors)}",
    ])


def security_headers(settings: Settings) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": content_security_policy(settings),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cache-Control": "no-store",
    }
    if not settings.portal_frame_ancestors:
        headers["X-Frame-Options"] = "DENY"
    if (settings.public_url or "").startswith("https://"):
        headers["Strict-Transport-Security"] = "max-age=31536000"
    return headers


class PortalHeaders:
    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.headers = security_headers(settings)
        self.cors_origins = frozenset(settings.cors_origins.split())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "") if scope["type"] == "http" else ""
        is_api = path.startswith(API_PREFIX)
        if not (is_api or path.startswith(PAGE_PREFIXES)):
            await self.app(scope, receive, send)
            return
        origin = Headers(scope=scope).get("origin")
        allowed = is_api and origin is not None and origin in self.cors_origins
        if allowed and scope["method"] == "OPTIONS":
            await Response(status_code=204, headers=self._cors(origin, preflight=True))(scope, receive, send)
            return
        is_static = path.startswith("/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if not (is_static and name == "Cache-Control"):
                        headers.setdefault(name, value)
                if allowed:
                    for name, value in self._cors(origin, preflight=False).items():
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, with_headers)

    @staticmethod
    def _cors(origin: str | None, *, preflight: bool) -> dict[str, str]:
        # Bearer tokens only: cookies are never sent cross-site to the API, so no Allow-Credentials.
        headers = {"Access-Control-Allow-Origin": origin or "", "Vary": "Origin"}
        if preflight:
            headers |= {
                "Access-Control-Allow-Methods": "GET, POST, PUT, DELETE",
                "Access-Control-Allow-Headers": CORS_HEADERS, "Access-Control-Max-Age": "600",
            }
        return headers
