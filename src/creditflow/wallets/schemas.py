"""Wallet request and response bodies, and the balance summary money endpoints return."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from creditflow import money
from creditflow.http.schemas import StrictModel
from creditflow.ledger.models import Grant, WalletState
from creditflow.money import Amount, Unit
from creditflow.wallets.service import WalletView


class WalletCreate(StrictModel):
    currency: Unit
    credit_limit: Amount = 0


class WalletUpdate(StrictModel):
    credit_limit: Amount


class Balance(BaseModel):
    posted: str = Field(description="Credits on the wallet, including the held part (negative in overdraft).")
    held: str = Field(description="Reserved by active holds.")
    available: str = Field(description="posted - held + credit_limit: what can be spent now.")

    @classmethod
    def of(cls, wallet: WalletState) -> Balance:
        return cls(
            posted=money.format(wallet.posted, wallet.unit),
            held=money.format(wallet.held, wallet.unit),
            available=money.format(wallet.available, wallet.unit),
        )


class LotOut(BaseModel):
    id: str
    category: str
    remaining: str
    held: str
    priority: int
    expires_at: datetime | None

    @classmethod
    def of(cls, lot: Grant) -> LotOut:
        return cls(
            id=lot.id, category=lot.category, remaining=money.format(lot.remaining, lot.unit),
            held=money.format(lot.held, lot.unit), priority=lot.priority, expires_at=lot.expires_at,
        )


class WalletOut(Balance):
    object: Literal["wallet"] = "wallet"
    id: str
    currency: str
    credit_limit: str
    debt: str = Field(
        description="Owed beyond the credit limit (a disputed payment's credits were already spent); the next "
        "grants pay it, after any overdraft, before they become spendable."
    )
    lots: list[LotOut] = Field(description="Live credit lots in draw order.")

    @classmethod
    def of_view(cls, view: WalletView) -> WalletOut:
        state = view.state
        return cls(
            id=state.id, currency=state.unit, credit_limit=money.format(state.credit_limit, state.unit),
            debt=money.format(view.debt, state.unit),
            **Balance.of(state).model_dump(), lots=[LotOut.of(lot) for lot in view.lots],
        )
