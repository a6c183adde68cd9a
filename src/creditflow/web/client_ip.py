"""The client's address: X-Forwarded-For is believed only from CREDITFLOW_TRUSTED_PROXIES."""

from __future__ import annotations

from fastapi import Request

from creditflow.config import Settings


def client_ip(request: Request, settings: Settings) -> str:
    peer = request.client.host if request.client else "unknown"
    trusted = set(settings.trusted_proxies.split())
    if peer not in trusted:
        return peer
    # Walk back from the nearest hop: the first address not one of our proxies is the client.
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if hop not in trusted:
            return hop
    return peer
