"""The LiteLLM integration with the real `litellm` package (mock responses, local cost map: no network)."""

from __future__ import annotations

import os

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

import asyncio
import uuid
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import litellm
import pytest
from litellm import ModelResponse, Usage
from litellm.integrations.custom_logger import CustomLogger
from litellm.proxy._types import UserAPIKeyAuth

from creditflow_client import AsyncCreditflow
from creditflow_client.litellm import CreditflowCallback, CreditsRefused, acompletion, usd
from tests.served import Served

# LiteLLM's own pydantic models warn about their TypedDicts on first use; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")

MODEL = "gpt-4o-mini"
MESSAGES = [{"role": "user", "content": "Say hello"}]


class ModelCalls(CustomLogger):
    """Counts the times LiteLLM went on to call the model (mocked here), through its own callback API."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def log_pre_api_call(self, model: Any, messages: Any, kwargs: Any) -> None:
        self.calls += 1


@pytest.fixture
async def cf(served: Served) -> AsyncIterator[AsyncCreditflow]:
    async with AsyncCreditflow(served.operator_key, served.base_url) as client:
        yield client


@pytest.fixture
def model_calls() -> AsyncIterator[ModelCalls]:
    counter = ModelCalls()
    litellm.callbacks = [counter]
    yield counter
    litellm.callbacks = []


async def funded(cf: AsyncCreditflow, amount: Decimal | str) -> str:
    customer = (await cf.customers.create(external_id=f"llm-{uuid.uuid4().hex[:10]}")).id
    await cf.credit_grants.create(customer=customer, amount=amount, category="paid")
    return customer


async def wallet(cf: AsyncCreditflow, customer: str) -> Any:
    [found] = [w async for w in cf.wallets.list(customer)]
    return found


async def test_over_budget_is_refused_before_the_model_is_called(cf: AsyncCreditflow, model_calls: ModelCalls) -> None:
    customer = await funded(cf, "1.00")
    await cf.budgets.create(customer=customer, amount="0.00001", period="month", action="block")
    callback = CreditflowCallback(cf)
    with pytest.raises(CreditsRefused) as refused:
        await acompletion(customer, callback=callback, model=MODEL, messages=MESSAGES, max_tokens=100,
                          mock_response="Hello!")
    assert (refused.value.reason, refused.value.status_code) == ("budget_exceeded", 402)
    assert model_calls.calls == 0
    assert (await wallet(cf, customer)).available == Decimal("1.00")


async def test_success_charges_exactly_the_response_cost(cf: AsyncCreditflow, model_calls: ModelCalls) -> None:
    customer = await funded(cf, "1.00")
    response = await acompletion(customer, callback=CreditflowCallback(cf), model=MODEL, messages=MESSAGES,
                                 mock_response="Hello there!")
    assert model_calls.calls == 1
    cost = response._hidden_params["response_cost"]
    charged = Decimal(repr(cost)).quantize(Decimal("0.000001"), rounding="ROUND_CEILING")
    assert charged > 0
    after = await wallet(cf, customer)
    assert (after.available, after.held) == (Decimal("1.00") - charged, Decimal(0))


async def test_a_credits_wallet_is_charged_the_usd_cost_at_the_configured_rate(
    cf: AsyncCreditflow, model_calls: ModelCalls,
) -> None:
    customer = (await cf.customers.create(external_id=f"llm-{uuid.uuid4().hex[:10]}", currency="CREDITS")).id
    await cf.credit_grants.create(customer=customer, amount="100", currency="CREDITS", category="paid")
    callback = CreditflowCallback(cf, currency="CREDITS", rate="1000")  # 1,000 CREDITS a dollar
    response = await acompletion(customer, callback=callback, model=MODEL, messages=MESSAGES, max_tokens=100,
                                 mock_response="Hello there!")
    charged = (Decimal(repr(response._hidden_params["response_cost"])) * 1000).quantize(
        Decimal("0.000001"), rounding="ROUND_CEILING")
    assert (await wallet(cf, customer)).available == Decimal(100) - charged


async def test_a_failed_call_charges_nothing(cf: AsyncCreditflow, model_calls: ModelCalls) -> None:
    customer = await funded(cf, "1.00")
    with pytest.raises(litellm.InternalServerError):
        await acompletion(customer, callback=CreditflowCallback(cf), model=MODEL, messages=MESSAGES,
                          mock_response=Exception("the model is down"))
    after = await wallet(cf, customer)
    assert (after.available, after.held, after.posted) == (Decimal("1.00"), Decimal(0), Decimal("1.00"))


async def test_twenty_concurrent_calls_against_a_wallet_covering_ten_let_exactly_ten_through(
    cf: AsyncCreditflow, model_calls: ModelCalls,
) -> None:
    callback = CreditflowCallback(cf)
    max_tokens = 50
    worst = callback.worst_case(MODEL, MESSAGES, max_tokens)
    customer = await funded(cf, worst * 10)
    prompt_tokens = litellm.token_counter(model=MODEL, messages=MESSAGES)
    # Every answer uses all of max_tokens, so each call costs its worst case and none frees room for an 11th.
    answer = ModelResponse(model=MODEL, choices=[{"message": {"role": "assistant", "content": "..."},
                                                  "finish_reason": "length", "index": 0}],
                           usage=Usage(prompt_tokens=prompt_tokens, completion_tokens=max_tokens,
                                       total_tokens=prompt_tokens + max_tokens))
    results = await asyncio.gather(*(
        acompletion(customer, callback=callback, model=MODEL, messages=MESSAGES, max_tokens=max_tokens,
                    mock_response=answer)
        for _ in range(20)
    ), return_exceptions=True)
    refused = [r for r in results if isinstance(r, CreditsRefused)]
    assert len(refused) == 10 and {r.reason for r in refused} == {"insufficient_funds"}
    assert model_calls.calls == 10
    after = await wallet(cf, customer)
    assert (after.available, after.held, after.posted) == (Decimal(0), Decimal(0), Decimal(0))


async def test_a_stream_is_captured_once_at_its_end_and_a_cut_stream_for_what_was_produced(
    cf: AsyncCreditflow, model_calls: ModelCalls,
) -> None:
    callback = CreditflowCallback(cf)
    customer = await funded(cf, "1.00")
    text = "one two three four five six seven eight nine ten"
    stream = await acompletion(customer, callback=callback, model=MODEL, messages=MESSAGES, stream=True,
                               mock_response=text)
    chunks = [chunk async for chunk in stream]
    whole = callback.to_wallet(usd(litellm.completion_cost(
        completion_response=litellm.stream_chunk_builder(chunks, messages=MESSAGES))))
    assert (await wallet(cf, customer)).available == Decimal("1.00") - whole

    cut = await acompletion(customer, callback=callback, model=MODEL, messages=MESSAGES, stream=True,
                            mock_response=text)
    produced = [await cut.__anext__(), await cut.__anext__()]
    await cut.aclose()
    part = callback.to_wallet(usd(litellm.completion_cost(
        completion_response=litellm.stream_chunk_builder(produced, messages=MESSAGES))))
    after = await wallet(cf, customer)
    assert (after.available, after.held) == (Decimal("1.00") - whole - part, Decimal(0))


async def test_the_proxy_callback_holds_before_and_captures_after_through_litellm_callbacks(
    cf: AsyncCreditflow,
) -> None:
    callback = CreditflowCallback(cf)
    customer = await funded(cf, "1.00")
    litellm.callbacks = [callback]
    try:
        key = UserAPIKeyAuth(user_id=customer)
        data = await callback.async_pre_call_hook(key, None, {"model": MODEL, "messages": MESSAGES,
                                                              "max_tokens": 100}, "acompletion")
        hold_id = data["metadata"]["creditflow_hold"]
        response = await litellm.acompletion(**data, mock_response="Hello from the proxy")
        for _ in range(200):  # LiteLLM runs success callbacks in the background
            hold = await cf.holds.retrieve(hold_id)
            if hold.status != "active":
                break
            await asyncio.sleep(0.05)
        charged = callback.to_wallet(usd(response._hidden_params["response_cost"]))
        assert (hold.status, hold.captured) == ("captured", charged)

        poor = await funded(cf, "0.000001")
        with pytest.raises(CreditsRefused) as refused:
            await callback.async_pre_call_hook(UserAPIKeyAuth(user_id=poor), None,
                                               {"model": MODEL, "messages": MESSAGES}, "acompletion")
        assert refused.value.status_code == 402
    finally:
        litellm.callbacks = []
