"""examples/llm_gateway against a real `creditflow serve`: provision a user, then calls until its budget stops them."""

from __future__ import annotations

import uuid
from decimal import Decimal
from importlib import import_module
from pathlib import Path

import pytest
import yaml

from creditflow_client import AsyncCreditflow
from creditflow_client.litellm import CreditflowCallback
from examples.llm_gateway.provision import Call, cycle, provision
from tests.served import Served

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pydantic._internal._generate_schema")


async def test_calls_are_charged_their_cost_until_the_monthly_budget_refuses_them(served: Served) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        user = await provision(cf, f"alice-{uuid.uuid4().hex[:6]}", Decimal("5"), Decimal("0.0002"))
        assert user.api_key.startswith("cf_ck_")
        calls = await cycle(cf, user.customer, calls=8)
        allowed = [c for c in calls if c.allowed]
        assert allowed and all(c.charged > 0 for c in allowed)
        # Each call reserves its worst case (prompt + 200 tokens) but costs far less; the budget refuses a call
        # once what was spent plus that worst case would pass it.
        assert len(allowed) < 8 and calls[-1] == Call(False, Decimal(0), "budget_exceeded")
        budget = await cf.budgets.retrieve(user.budget)
        spent = sum(c.charged for c in allowed)
        assert budget.current_period["spent"] == spent
        [wallet] = [w async for w in cf.wallets.list(user.customer)]
        assert (wallet.available, wallet.held) == (Decimal("5") - spent, Decimal(0))


def test_the_proxy_config_loads_the_creditflow_callback() -> None:
    config = yaml.safe_load((Path(__file__).parents[2] / "examples/llm_gateway/config.yaml").read_text())
    module, _, name = config["litellm_settings"]["callbacks"].rpartition(".")
    assert isinstance(getattr(import_module(module), name), CreditflowCallback)
