"""plan_draw: pure draw planning over lots in the order given, then the overdraft."""

from __future__ import annotations

import pytest

from creditflow.errors import InsufficientFunds
from creditflow.ledger.draw import plan_draw
from creditflow.ledger.models import Draw, Lot

NO_OVERDRAFT = Lot("ovd_1", posted=0, held=0, credit_limit=0)


def test_takes_from_the_first_lot_when_it_covers_the_amount():
    lots = [Lot("grt_a", 10, 0), Lot("grt_b", 10, 0)]
    assert plan_draw(lots, NO_OVERDRAFT, 4) == [Draw("grt_a", 4)]


def test_spans_lots_in_the_order_given():
    lots = [Lot("grt_b", 3, 0), Lot("grt_a", 5, 0), Lot("grt_c", 5, 0)]
    assert plan_draw(lots, NO_OVERDRAFT, 10) == [Draw("grt_b", 3), Draw("grt_a", 5), Draw("grt_c", 2)]


def test_draws_only_the_unheld_part_of_a_lot():
    lots = [Lot("grt_a", 10, 7), Lot("grt_b", 10, 0)]
    assert plan_draw(lots, NO_OVERDRAFT, 5) == [Draw("grt_a", 3), Draw("grt_b", 2)]


def test_skips_lots_with_nothing_available():
    lots = [Lot("grt_a", 4, 4), Lot("grt_b", 0, 0), Lot("grt_c", 6, 0)]
    assert plan_draw(lots, NO_OVERDRAFT, 6) == [Draw("grt_c", 6)]


def test_exact_total_of_the_lots_empties_them_without_touching_the_overdraft():
    overdraft = Lot("ovd_1", 0, 0, credit_limit=100)
    lots = [Lot("grt_a", 2, 0), Lot("grt_b", 3, 0)]
    assert plan_draw(lots, overdraft, 5) == [Draw("grt_a", 2), Draw("grt_b", 3)]


def test_the_overdraft_covers_what_the_lots_cannot_down_to_its_limit():
    overdraft = Lot("ovd_1", 0, 0, credit_limit=5)
    assert plan_draw([Lot("grt_a", 3, 0)], overdraft, 8) == [Draw("grt_a", 3), Draw("ovd_1", 5)]


def test_an_overdraft_already_in_use_offers_only_the_rest_of_its_limit():
    overdraft = Lot("ovd_1", posted=-4, held=0, credit_limit=5)
    assert plan_draw([], overdraft, 1) == [Draw("ovd_1", 1)]
    with pytest.raises(InsufficientFunds):
        plan_draw([], overdraft, 2)


def test_raises_insufficient_funds_when_lots_and_overdraft_fall_short():
    overdraft = Lot("ovd_1", 0, 0, credit_limit=2)
    with pytest.raises(InsufficientFunds) as raised:
        plan_draw([Lot("grt_a", 3, 0)], overdraft, 6)
    assert raised.value.code == "insufficient_funds"
    assert raised.value.param == "amount"


def test_zero_amount_plans_nothing():
    assert plan_draw([Lot("grt_a", 3, 0)], NO_OVERDRAFT, 0) == []


def test_draw_names_its_grant_only_for_credit_lots():
    assert Draw("grt_a", 1).grant_id == "grt_a"
    assert Draw("ovd_1", 1).grant_id is None
