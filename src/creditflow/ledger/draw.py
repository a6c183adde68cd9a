"""Draw planning: which accounts pay for an amount, in draw order. Pure: no I/O."""

from __future__ import annotations

from collections.abc import Iterable

from creditflow.errors import InsufficientFunds
from creditflow.ledger.models import Draw, Lot


def plan_draw(lots: Iterable[Lot], overdraft: Lot, amount: int) -> list[Draw]:
    """Take `amount` from the lots in the order given, then from the overdraft down to its limit.

    Raises InsufficientFunds (and plans nothing) when lots and overdraft together cannot cover it.
    """
    draws: list[Draw] = []
    left = amount
    for lot in lots:
        if left == 0:
            break
        take = min(lot.available, left)
        if take > 0:
            draws.append(Draw(lot.account_id, take))
            left -= take
    if left > 0:
        if overdraft.available < left:
            raise InsufficientFunds(
                "the wallet's available balance does not cover this amount",
                param="amount",
            )
        draws.append(Draw(overdraft.account_id, left))
    return draws
