"""Provision an LLM gateway user in creditflow and show the check-budget / log-usage cycle.

    CREDITFLOW_API_KEY=cf_sk_... python -m examples.llm_gateway.provision alice --credit 5 --monthly-budget 1

Creates the customer, a creditflow API key and a blocking monthly budget, prints the LiteLLM proxy call that
makes the user's virtual key (its user_id is the creditflow customer), then runs a few calls through
creditflow_client.litellm.acompletion with LiteLLM's mock responses (no model provider needed): each one
authorizes its worst case (check budget), then captures its real cost (log usage).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass
from decimal import Decimal

# Before LiteLLM is imported: the demo prices calls with the cost map LiteLLM ships, not one fetched.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from creditflow_client import AsyncCreditflow
from creditflow_client.litellm import CreditflowCallback, CreditsRefused, acompletion

MODEL = "gpt-4o-mini"


@dataclass(frozen=True, slots=True)
class Provisioned:
    customer: str
    api_key: str
    budget: str


async def provision(cf: AsyncCreditflow, user: str, credit: Decimal, monthly_budget: Decimal) -> Provisioned:
    customer = await cf.customers.create(external_id=user, currency="USD")
    await cf.credit_grants.create(customer=customer.id, amount=credit, category="paid", description="starter credit")
    key = await cf.api_keys.create(customer.id, name="llm-gateway")
    budget = await cf.budgets.create(customer=customer.id, amount=monthly_budget, period="month", action="block",
                                     thresholds=[80])
    return Provisioned(customer.id, key.key, budget.id)


@dataclass(frozen=True, slots=True)
class Call:
    allowed: bool
    charged: Decimal
    reason: str | None = None


async def cycle(cf: AsyncCreditflow, customer: str, calls: int, max_tokens: int = 200) -> list[Call]:
    """`calls` chat completions, one after another: each allowed and charged, or refused before the model."""
    callback = CreditflowCallback(cf)
    results = []
    for n in range(calls):
        try:
            response = await acompletion(customer, callback=callback, model=MODEL, max_tokens=max_tokens,
                                         messages=[{"role": "user", "content": f"Question {n}"}],
                                         mock_response=f"Answer {n}")
        except CreditsRefused as refused:
            results.append(Call(False, Decimal(0), refused.reason))
            continue
        results.append(Call(True, callback.to_wallet(Decimal(repr(response._hidden_params["response_cost"])))))
    return results


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("user")
    parser.add_argument("--credit", type=Decimal, default=Decimal("5"))
    parser.add_argument("--monthly-budget", type=Decimal, default=Decimal("1"))
    parser.add_argument("--calls", type=int, default=3)
    args = parser.parse_args()
    async with AsyncCreditflow() as cf:
        user = await provision(cf, args.user, args.credit, args.monthly_budget)
        print(f"customer {user.customer}, creditflow key {user.api_key}, monthly budget {user.budget}")
        print("LiteLLM virtual key for this user (proxy running with config.yaml):")
        print(f"  curl -X POST $LITELLM_URL/key/generate -H 'Authorization: Bearer $LITELLM_MASTER_KEY' "
              f"-H 'Content-Type: application/json' -d '{{\"user_id\": \"{user.customer}\"}}'")
        for n, call in enumerate(await cycle(cf, user.customer, args.calls), 1):
            print(f"call {n}: " + (f"charged {call.charged} USD" if call.allowed else f"refused ({call.reason})"))
        budget = await cf.budgets.retrieve(user.budget)
        print(f"budget this month: spent {budget.current_period['spent']} of {budget.amount}")


if __name__ == "__main__":
    asyncio.run(main())
