"""Top-up rules: limits, tax (inclusive or exclusive, rounded once to what the gateway charges), bonus tiers,
conversion to a credit unit, and the rules as CREDITFLOW_TOPUP_RULES spells them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from creditflow import money
from creditflow.config import Settings
from creditflow.topups.rules import DEFAULT_TOPUP_RULES, CreditTerms, TopupAmountOutOfRange, TopupRule, quote

IDR = DEFAULT_TOPUP_RULES["IDR"]
INR = DEFAULT_TOPUP_RULES["INR"]
RUPIAH = money.parse("1")
PAISA = money.parse("0.01")


def m(text: str) -> int:
    return money.parse(text)


def test_exclusive_tax_is_added_on_top_and_rounded_half_up_to_whole_rupiah() -> None:
    priced = quote(IDR, currency="IDR", amount=m("10005"), step=RUPIAH)
    # 11% of 10,005 is 1,100.55: Midtrans charges whole rupiah, so the tax is 1,101.
    assert (priced.subtotal, priced.tax, priced.total) == (m("10005"), m("1101"), m("11106"))
    assert (priced.credit_unit, priced.credits, priced.bonus_credits) == ("IDR", m("10005"), 0)


def test_the_same_tax_keeps_sen_where_the_gateway_charges_them() -> None:
    priced = quote(IDR, currency="IDR", amount=m("10005"), step=PAISA)
    assert (priced.tax, priced.total) == (m("1100.55"), m("11105.55"))


def test_inclusive_tax_is_the_part_already_in_the_amount() -> None:
    rule = TopupRule.model_validate({"tax": {"name": "GST", "rate": "18", "mode": "inclusive"}})
    priced = quote(rule, currency="INR", amount=m("1180"), step=PAISA)
    assert (priced.subtotal, priced.tax, priced.total) == (m("1000"), m("180"), m("1180"))
    assert priced.credits == m("1000")


@pytest.mark.parametrize(
    ("amount", "bonus"),
    [("499.99", "0"), ("500", "50"), ("999", "99.90"), ("1000", "150"), ("2000", "400"), ("5000", "1250"),
     ("50000", "12500")],
)
def test_inr_bonus_tiers_take_the_highest_reached(amount: str, bonus: str) -> None:
    priced = quote(INR, currency="INR", amount=m(amount), step=PAISA)
    assert priced.bonus_credits == m(bonus)
    assert priced.tax == money.round_to_minor(m(amount) * 18 // 100, "INR")


@pytest.mark.parametrize(("amount", "limit", "bound"), [("9999", "minimum", "10000.00"),
                                                        ("10000001", "maximum", "10000000.00")])
def test_amounts_outside_the_limits_are_refused_naming_the_limit(amount: str, limit: str, bound: str) -> None:
    with pytest.raises(TopupAmountOutOfRange) as refused:
        quote(IDR, currency="IDR", amount=m(amount), step=RUPIAH)
    assert refused.value.details == {"limit": limit, "amount": bound, "currency": "IDR"}
    assert bound in refused.value.message and refused.value.param == "amount"


def test_the_limits_themselves_are_allowed() -> None:
    assert quote(IDR, currency="IDR", amount=m("10000"), step=RUPIAH).total == m("11100")
    assert quote(IDR, currency="IDR", amount=m("10000000"), step=RUPIAH).total == m("11100000")


def test_a_package_fixes_its_credits_and_its_own_bonus_replaces_the_tiers() -> None:
    terms = CreditTerms(credits=m("120"), credit_unit="CREDITS", bonus_credits=m("5"))
    priced = quote(INR, currency="INR", amount=m("1000"), step=PAISA, terms=terms)
    assert (priced.credit_unit, priced.credits, priced.bonus_credits) == ("CREDITS", m("120"), m("5"))
    assert priced.total == m("1180")


def test_a_package_without_its_own_bonus_gets_the_tier() -> None:
    terms = CreditTerms(credits=m("120"), credit_unit="CREDITS", bonus_credits=None)
    assert quote(INR, currency="INR", amount=m("1000"), step=PAISA, terms=terms).bonus_credits == m("18")


def test_a_rule_may_convert_money_to_a_credit_unit() -> None:
    rule = TopupRule.model_validate({"credit_unit": "credits", "credit_rate": "0.0125"})
    priced = quote(rule, currency="IDR", amount=m("10001"), step=RUPIAH)
    assert (priced.credit_unit, priced.credits) == ("CREDITS", m("125.0125"))


def test_no_rule_means_no_limits_no_tax_and_credits_in_the_currency() -> None:
    priced = quote(None, currency="USD", amount=m("12.50"), step=PAISA)
    assert (priced.subtotal, priced.tax, priced.total, priced.credits, priced.credit_unit) == (
        m("12.50"), 0, m("12.50"), m("12.50"), "USD"
    )


def test_the_defaults_are_idr_and_inr() -> None:
    assert (IDR.min, IDR.max, IDR.tax.name if IDR.tax else None) == (m("10000"), m("10000000"), "PPN")
    assert (INR.min, INR.max, INR.tax.rate if INR.tax else None) == (m("100"), m("50000"), Decimal(18))
    assert [(t.min, t.percent) for t in INR.bonus_tiers] == [
        (m("500"), 10), (m("1000"), 15), (m("2000"), 20), (m("5000"), 25)
    ]


def test_rules_come_from_the_environment_as_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "CREDITFLOW_TOPUP_RULES",
        '{"usd": {"min": "5", "tax": {"name": "VAT", "rate": "7.5", "mode": "inclusive"},'
        ' "bonus_tiers": [{"min": "100", "percent": "5"}]}}',
    )
    rules = Settings().topup_rules
    assert list(rules) == ["USD"]
    assert rules["USD"].min == m("5") and rules["USD"].tax is not None and rules["USD"].tax.inclusive


@pytest.mark.parametrize(
    "rules",
    ['{"CREDITS": {}}', '{"USD": {"min": "10", "max": "5"}}', '{"USD": {"tax": {"name": "VAT", "rate": "101"}}}',
     '{"USD": {"credit_unit": "CREDITS"}}', '{"USD": {"min": 5.5}}', '{"USD": {"surprise": 1}}'],
)
def test_rules_that_make_no_sense_stop_startup(monkeypatch: pytest.MonkeyPatch, rules: str) -> None:
    monkeypatch.setenv("CREDITFLOW_TOPUP_RULES", rules)
    with pytest.raises(ValidationError):
        Settings()
