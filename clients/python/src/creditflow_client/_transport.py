"""Requests with retries: idempotency keys on every POST, backoff with jitter, Retry-After, typed errors."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from creditflow_client._objects import convert, encode
from creditflow_client.errors import APIConnectionError, error_for

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "creditflow-client-python/0.1.0"


def new_idempotency_key() -> str:
    return f"cfc_{uuid.uuid4().hex}"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: exponential backoff with full jitter, capped."""

    max_retries: int = 4
    base_delay: float = 0.25
    max_delay: float = 8.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_delay * 4)
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(slots=True)
class PreparedRequest:
    method: str
    path: str
    params: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bool = False


def build_path(template: str, args: tuple[Any, ...]) -> str:
    """Fill `{name}` segments in order from positional arguments, each URL-quoted."""
    names = [part[1:-1] for part in template.split("/") if part.startswith("{")]
    if len(args) != len(names):
        raise TypeError(f"{template} takes {len(names)} positional argument(s) ({', '.join(names)}), got {len(args)}")
    for name, value in zip(names, args, strict=True):
        template = template.replace("{" + name + "}", quote(str(value), safe=""), 1)
    return template


def prepare(
    method: str, path: str, params: Mapping[str, Any] | None, body: Any, idempotency_key: str | None, raw: bool,
) -> PreparedRequest:
    headers: dict[str, str] = {}
    content = None
    if body is not None:
        content = encode(body)
        headers["content-type"] = "application/json"
    if method == "POST":
        # One key for every attempt of this call: that is what makes a retry move money once.
        headers["idempotency-key"] = idempotency_key or new_idempotency_key()
    query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
    return PreparedRequest(method, path, query or None, content, headers, raw)


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def retry_delay(policy: RetryPolicy, attempt: int, response: httpx.Response | None) -> float | None:
    """Seconds to wait before the next attempt, or None when this outcome is final."""
    if attempt >= policy.max_retries:
        return None
    if response is None:
        return policy.delay(attempt)
    if response.status_code == 409:
        code = _error_code(response)
        return policy.delay(attempt) if code == "idempotency_key_in_use" else None
    if response.status_code not in RETRY_STATUSES:
        return None
    return policy.delay(attempt, _retry_after(response))


def _error_code(response: httpx.Response) -> str | None:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["retry-after"])
    except (KeyError, ValueError):
        return None


def result(response: httpx.Response, raw: bool) -> Any:
    """The answer's body (bytes when `raw`), or the typed error."""
    if response.is_success:
        if raw:
            return response.content
        return convert(response.json()) if response.content else None
    try:
        body = response.json()
    except ValueError:
        body = response.text
    raise error_for(response.status_code, body, dict(response.headers))


def _client_kwargs(api_key: str, base_url: str, timeout: float) -> dict[str, Any]:
    # No key: the calls that come before one (portal sign-up and log-in) send no Authorization at all.
    headers = {"authorization": f"Bearer {api_key}"} if api_key else {}
    return {"base_url": base_url.rstrip("/"), "timeout": timeout, "headers": {**headers, "user-agent": USER_AGENT}}


def _stream_failed(exc: httpx.TransportError) -> APIConnectionError:
    # Bytes were already handed out: a retry would repeat them, so the caller starts the download again.
    return APIConnectionError(f"creditflow stopped answering mid-download: {exc!r}")


class SyncTransport:
    def __init__(self, api_key: str, base_url: str, timeout: float, retry: RetryPolicy,
                 http_client: httpx.Client | None) -> None:
        self.retry = retry
        self.http = http_client or httpx.Client(**_client_kwargs(api_key, base_url, timeout))
        if http_client is not None:
            self.http.headers.update(_client_kwargs(api_key, base_url, timeout)["headers"])

    def send(self, request: PreparedRequest) -> Any:
        attempt = 0
        while True:
            try:
                response = self.http.request(request.method, request.path, params=request.params,
                                             content=request.content, headers=request.headers)
            except httpx.TransportError as exc:
                delay = retry_delay(self.retry, attempt, None)
                if delay is None:
                    raise APIConnectionError(f"creditflow unreachable: {exc!r}") from exc
            else:
                delay = retry_delay(self.retry, attempt, response)
                if delay is None:
                    return result(response, request.raw)
            time.sleep(delay)
            attempt += 1

    def stream(self, request: PreparedRequest) -> Iterator[bytes]:
        """The answer's bytes as they arrive; retried like `send` until the first byte is handed out."""
        attempt = 0
        while True:
            try:
                with self.http.stream(request.method, request.path, params=request.params,
                                      content=request.content, headers=request.headers) as response:
                    if not response.is_success:
                        response.read()
                        delay = retry_delay(self.retry, attempt, response)
                        if delay is None:
                            result(response, raw=True)
                    else:
                        started = False
                        try:
                            for chunk in response.iter_bytes():
                                started = True
                                yield chunk
                        except httpx.TransportError as exc:
                            if started:
                                raise _stream_failed(exc) from exc
                            raise
                        return
            except httpx.TransportError as exc:
                delay = retry_delay(self.retry, attempt, None)
                if delay is None:
                    raise APIConnectionError(f"creditflow unreachable: {exc!r}") from exc
            time.sleep(delay)
            attempt += 1

    def close(self) -> None:
        self.http.close()


class AsyncTransport:
    def __init__(self, api_key: str, base_url: str, timeout: float, retry: RetryPolicy,
                 http_client: httpx.AsyncClient | None) -> None:
        self.retry = retry
        self.http = http_client or httpx.AsyncClient(**_client_kwargs(api_key, base_url, timeout))
        if http_client is not None:
            self.http.headers.update(_client_kwargs(api_key, base_url, timeout)["headers"])

    async def send(self, request: PreparedRequest) -> Any:
        attempt = 0
        while True:
            try:
                response = await self.http.request(request.method, request.path, params=request.params,
                                                   content=request.content, headers=request.headers)
            except httpx.TransportError as exc:
                delay = retry_delay(self.retry, attempt, None)
                if delay is None:
                    raise APIConnectionError(f"creditflow unreachable: {exc!r}") from exc
            else:
                delay = retry_delay(self.retry, attempt, response)
                if delay is None:
                    return result(response, request.raw)
            await asyncio.sleep(delay)
            attempt += 1

    async def stream(self, request: PreparedRequest) -> AsyncIterator[bytes]:
        """The answer's bytes as they arrive; retried like `send` until the first byte is handed out."""
        attempt = 0
        while True:
            try:
                async with self.http.stream(request.method, request.path, params=request.params,
                                            content=request.content, headers=request.headers) as response:
                    if not response.is_success:
                        await response.aread()
                        delay = retry_delay(self.retry, attempt, response)
                        if delay is None:
                            result(response, raw=True)
                    else:
                        started = False
                        try:
                            async for chunk in response.aiter_bytes():
                                started = True
                                yield chunk
                        except httpx.TransportError as exc:
                            if started:
                                raise _stream_failed(exc) from exc
                            raise
                        return
            except httpx.TransportError as exc:
                delay = retry_delay(self.retry, attempt, None)
                if delay is None:
                    raise APIConnectionError(f"creditflow unreachable: {exc!r}") from exc
            await asyncio.sleep(delay)
            attempt += 1

    async def close(self) -> None:
        await self.http.aclose()


