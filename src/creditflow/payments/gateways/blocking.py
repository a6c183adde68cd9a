"""Running the official SDKs, which are synchronous (requests), without blocking the event loop.

Every call goes to a worker thread under a deadline. The socket timeout inside the SDK bounds how long
the thread itself can hang; the deadline bounds how long the caller waits, after which the thread is
abandoned and the caller gets GatewayUnavailable (the outcome is unknown, exactly like a lost reply).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import requests

from creditflow.payments.gateways.errors import GatewayError, GatewayUnavailable

T = TypeVar("T")

DEFAULT_TIMEOUT_SECONDS = 10.0


class TimeoutSession(requests.Session):
    """A requests session with a default timeout: Midtrans' client and Razorpay's pass none."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.default_timeout
        return super().request(method, url, *args, **kwargs)


def network_error(gateway: str, exc: Exception) -> GatewayUnavailable | None:
    """A requests-level failure (refused, reset, timed out, garbled reply) as GatewayUnavailable."""
    if isinstance(exc, requests.RequestException):
        return GatewayUnavailable(gateway, f"{gateway} could not be reached: {type(exc).__name__}: {exc}")
    return None


async def call(
    gateway: str,
    function: Callable[[], T],
    *,
    deadline: float,
    translate: Callable[[Exception], GatewayError | None],
) -> T:
    """Run `function` in a thread; map its exceptions with `translate` (None: not ours, re-raise)."""
    try:
        with anyio.fail_after(deadline):
            return await anyio.to_thread.run_sync(function, abandon_on_cancel=True)
    except TimeoutError:
        raise GatewayUnavailable(gateway, f"{gateway} did not answer within {deadline:g} s") from None
    except GatewayError:
        raise
    except Exception as exc:
        mapped = translate(exc)
        if mapped is None:
            raise
        raise mapped from exc
