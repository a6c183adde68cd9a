"""How much an auto top-up charges: a fixed amount, or what brings the balance back to a target."""

from __future__ import annotations

from fractions import Fraction

from creditflow.auto_topups.models import AutoTopup
from creditflow.topups.rules import TopupRule


def charge_amount(settings: AutoTopup, available: int, rule: TopupRule | None, step: int) -> int:
    """Money (micro-units of settings.currency) to charge now. For a target balance: the credits missing, turned
    back into money at the currency's rate and through an inclusive tax, rounded up to what the gateway charges
    (`step`), then kept within the currency's limits. Bonus tiers may take the balance past the target."""
    if settings.amount is not None:
        return settings.amount
    assert settings.target_balance is not None
    money = Fraction(settings.target_balance - available)
    if rule is not None and rule.credit_rate is not None:
        money /= Fraction(rule.credit_rate)
    if rule is not None and rule.tax is not None and rule.tax.inclusive:
        money = money * (100 + Fraction(rule.tax.rate)) / 100
    amount = -(-money // step) * step
    if rule is not None and rule.min is not None:
        amount = max(amount, rule.min)
    if rule is not None and rule.max is not None:
        amount = min(amount, rule.max)
    return int(amount)
