"""How much a target balance charges: the missing credits back into money, through the rate and an inclusive
tax, rounded up to what the gateway charges, kept within the currency's limits."""

from __future__ import annotations

from datetime import UTC, datetime

from creditflow import money
from creditflow.auto_topups.amounts import charge_amount
from creditflow.auto_topups.models import AutoTopup
from creditflow.topups.rules import TopupRule

NOW = datetime(2026, 11, 23, tzinfo=UTC)
CENT = money.parse("0.01")


def _settings(*, amount: str | None = None, target: str | None = None) -> AutoTopup:
    return AutoTopup(
        wallet_id="wal_1", customer_id="cus_1", unit="CREDITS", currency="USD", threshold=money.parse("100"),
        amount=None if amount is None else money.parse(amount), target_balance=None if target is None else
        money.parse(target), max_per_day=1, payment_method_id=None, link_gateway=None, failures=0, retry_at=None,
        created_at=NOW, updated_at=NOW,
    )


def test_a_fixed_amount_is_charged_as_set() -> None:
    assert charge_amount(_settings(amount="20"), money.parse("3"), None, CENT) == money.parse("20")


def test_missing_credits_are_turned_back_into_money_and_rounded_up() -> None:
    rule = TopupRule(credit_unit="CREDITS", credit_rate="30")  # 30 credits per USD
    # 1,000 - 1 = 999 credits = 33.30 USD
    assert charge_amount(_settings(target="1000"), money.parse("1"), rule, CENT) == money.parse("33.30")
    # 1,000 - 0.5 = 999.5 credits = 33.3166... USD -> 33.32
    assert charge_amount(_settings(target="1000"), money.parse("0.5"), rule, CENT) == money.parse("33.32")


def test_an_inclusive_tax_is_added_back_so_the_credits_arrive_in_full() -> None:
    rule = TopupRule(tax={"name": "GST", "rate": "18", "mode": "inclusive"})
    # 100 missing: 118 charged, of which 18 is tax and 100 buys credits.
    assert charge_amount(_settings(target="200"), money.parse("100"), rule, CENT) == money.parse("118")


def test_the_currencys_limits_bound_it() -> None:
    rule = TopupRule(min="10", max="50")
    assert charge_amount(_settings(target="200"), money.parse("198"), rule, CENT) == money.parse("10")
    assert charge_amount(_settings(target="200"), money.parse("0"), rule, CENT) == money.parse("50")
