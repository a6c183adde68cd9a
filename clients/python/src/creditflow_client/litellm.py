"""LiteLLM integration: authorize the worst case before a model call, capture the real cost after.

In a LiteLLM proxy `config.yaml`:

    litellm_settings:
      callbacks: creditflow_client.litellm.handler

`handler` reads CREDITFLOW_API_KEY and CREDITFLOW_BASE_URL, plus CREDITFLOW_LITELLM_CURRENCY (the wallet
unit; default the customer's currency), CREDITFLOW_LITELLM_RATE (wallet units per USD; default 1) and
CREDITFLOW_LITELLM_CUSTOMER_FROM (which field of the virtual key names the creditflow customer: user_id,
team_id, end_user_id or key_alias; default user_id; a key's metadata `creditflow_customer` wins).

From code, `await creditflow_client.litellm.acompletion(customer="acme", model=..., messages=...)` does the
same around `litellm.acompletion`. LiteLLM prices in USD floats: each is read with Decimal(repr(x)), times
the rate, rounded up to 6 decimal places. Without `max_tokens` the worst case uses the model's output cap.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import litellm
from litellm.integrations.custom_logger import CustomLogger

from creditflow_client._objects import round_up
from creditflow_client.client import AsyncCreditflow
from creditflow_client.errors import PaymentRequired

log = logging.getLogger("creditflow_client.litellm")

HOLD_KEY = "creditflow_hold"
REFUSAL_STATUS = {"invalid_key": 401, "insufficient_funds": 402, "budget_exceeded": 402, "rate_limited": 429}


class CreditsRefused(Exception):
    """The call was refused before the model was called; `status_code` is what the proxy answers."""

    def __init__(self, reason: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason, self.message, self.retry_after = reason, message, retry_after
        self.status_code = REFUSAL_STATUS.get(reason, 402)


def usd(value: float | int | None) -> Decimal:
    """A LiteLLM cost (a float in USD) as the exact decimal it prints as."""
    return Decimal(repr(value)) if value else Decimal(0)


class CreditflowCallback(CustomLogger):
    def __init__(self, client: AsyncCreditflow | None = None, *, currency: str | None = None,
                 rate: Decimal | str | None = None, customer_from: str | None = None,
                 expires_in: int | None = None) -> None:
        super().__init__()
        self._client = client
        self.currency = currency or os.environ.get("CREDITFLOW_LITELLM_CURRENCY") or None
        self.rate = Decimal(str(rate or os.environ.get("CREDITFLOW_LITELLM_RATE") or "1"))
        self.customer_from = customer_from or os.environ.get("CREDITFLOW_LITELLM_CUSTOMER_FROM") or "user_id"
        self.expires_in = expires_in

    @property
    def client(self) -> AsyncCreditflow:
        if self._client is None:  # made on first use, so importing the proxy's callback needs no settings
            self._client = AsyncCreditflow()
        return self._client

    # --- money ---------------------------------------------------------------------------------
    def to_wallet(self, cost_usd: Decimal) -> Decimal:
        return round_up(cost_usd * self.rate)

    def worst_case(self, model: str, messages: list[dict[str, Any]], max_tokens: int | None) -> Decimal:
        """What the call can cost at most: its prompt plus `max_tokens` (or the model's output cap)."""
        if max_tokens is None:
            info = litellm.get_model_info(model)
            max_tokens = info.get("max_output_tokens") or info.get("max_tokens") or 0
        prompt_tokens = litellm.token_counter(model=model, messages=messages)
        prompt, completion = litellm.cost_per_token(model=model, prompt_tokens=prompt_tokens,
                                                    completion_tokens=max_tokens)
        return self.to_wallet(usd(prompt) + usd(completion))

    async def hold(self, amount: Decimal, *, customer: str | None = None, api_key: str | None = None) -> str:
        answer = await self.client.authorize(customer=customer, api_key=api_key, amount=amount,
                                             currency=self.currency, expires_in=self.expires_in)
        if not answer.allowed:
            raise CreditsRefused(answer.reason, answer.get("message") or answer.reason, answer.get("retry_after"))
        return answer.hold_id

    async def capture(self, hold_id: str, cost_usd: Decimal) -> None:
        cost = self.to_wallet(cost_usd)
        if cost <= 0:
            await self.void(hold_id)
            return
        key = f"litellm-capture-{hold_id}"
        try:
            await self.client.holds.capture(hold_id, amount=cost, final=True, idempotency_key=key)
        except PaymentRequired as exc:
            await self.client.holds.capture(hold_id, final=True, idempotency_key=f"{key}-hold")
            log.warning("creditflow: cost %s above hold %s refused (%s); captured the hold", cost, hold_id, exc.code)

    async def void(self, hold_id: str) -> None:
        await self.client.holds.void(hold_id, idempotency_key=f"litellm-void-{hold_id}")

    # --- LiteLLM proxy hooks -------------------------------------------------------------------
    def customer_of(self, user_api_key_dict: Any) -> str:
        metadata = getattr(user_api_key_dict, "metadata", None) or {}
        customer = metadata.get("creditflow_customer") or getattr(user_api_key_dict, self.customer_from, None)
        if not customer:
            raise CreditsRefused("invalid_key", f"this key has no {self.customer_from} to bill")
        return str(customer)

    async def async_pre_call_hook(self, user_api_key_dict: Any, cache: Any, data: dict, call_type: Any) -> dict:
        amount = self.worst_case(data["model"], data.get("messages") or [], data.get("max_tokens"))
        hold_id = await self.hold(amount, customer=self.customer_of(user_api_key_dict))
        data.setdefault("metadata", {})[HOLD_KEY] = hold_id
        return data

    @staticmethod
    def _hold_of(kwargs: dict[str, Any]) -> str | None:
        metadata = (kwargs.get("litellm_params") or {}).get("metadata") or kwargs.get("metadata") or {}
        return metadata.get(HOLD_KEY)

    async def async_log_success_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        # For a stream LiteLLM calls this once, at the end, with the whole response's cost.
        hold_id = self._hold_of(kwargs)
        if hold_id:
            await self.capture(hold_id, usd(kwargs.get("response_cost")))

    async def async_log_failure_event(self, kwargs: dict, response_obj: Any, start_time: Any, end_time: Any) -> None:
        hold_id = self._hold_of(kwargs)
        if hold_id:
            await self.void(hold_id)


def response_cost(response: Any) -> Decimal:
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost")
    return usd(cost if cost is not None else litellm.completion_cost(completion_response=response))


async def acompletion(customer: str | None = None, *, api_key: str | None = None,
                      callback: CreditflowCallback | None = None, **kwargs: Any) -> Any:
    """`litellm.acompletion(**kwargs)` paid from creditflow: refused before the model is called when the
    worst case is not covered; charged exactly the response's cost; nothing charged when it fails."""
    callback = callback or handler
    worst = callback.worst_case(kwargs["model"], kwargs.get("messages") or [], kwargs.get("max_tokens"))
    hold_id = await callback.hold(worst, customer=customer, api_key=api_key)
    try:
        response = await litellm.acompletion(**kwargs)
    except BaseException:
        await callback.void(hold_id)
        raise
    if kwargs.get("stream"):
        return _metered(callback, hold_id, response, kwargs)
    await callback.capture(hold_id, response_cost(response))
    return response


async def _metered(callback: CreditflowCallback, hold_id: str, stream: Any, kwargs: dict[str, Any]) -> AsyncIterator:
    """The stream as LiteLLM gives it, captured once at its end, or for what was produced if cut midway."""
    chunks = []
    try:
        async for chunk in stream:
            chunks.append(chunk)
            yield chunk
    finally:
        if chunks:
            built = litellm.stream_chunk_builder(chunks, messages=kwargs.get("messages"))
            await callback.capture(hold_id, usd(litellm.completion_cost(completion_response=built)))
        else:
            await callback.void(hold_id)


handler = CreditflowCallback()
