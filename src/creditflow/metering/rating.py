"""What one request's events share while being rated: looked up or computed once per request rather than
once per event (a batch carries up to 1,000 events, mostly of a few customers, metrics and prices)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from creditflow.ledger.spend import WalletBook, find_book
from creditflow.metering.prices import Price, by_precedence
from creditflow.metering.repository import Subscribed
from creditflow.periods import period_start
from creditflow.subscriptions.intervals import period_containing


class Rating:
    """What one request's events share, looked up or computed once per request rather than once per event:
    each (metric, customer, currency)'s prices in precedence order, parsed price specs, period starts,
    and the wallet each (customer, currency) is charged from. `plans` names the plans each customer
    subscribes to: their prices come between the customer's own and the default, and one whose period is
    the plan's interval counts usage over the subscription's billing periods rather than calendar ones."""

    def __init__(
        self, candidates: list[Price], books: list[WalletBook], plans: dict[str, dict[str, Subscribed]] | None = None
    ) -> None:
        self.candidates = candidates
        self.books = books
        self.plans = plans or {}
        self._ordered: dict[tuple[str, str, str], list[Price]] = {}
        self._specs: dict[str, Any] = {}
        self._starts: dict[tuple[Any, ...], datetime] = {}
        self._books: dict[tuple[str, str], WalletBook] = {}

    def price(self, metric_id: str, customer_id: str, currency: str, properties: dict[str, Any]) -> Price | None:
        key = (metric_id, customer_id, currency)
        ordered = self._ordered.get(key)
        if ordered is None:
            ordered = self._ordered[key] = by_precedence(
                self.candidates, metric_id=metric_id, customer_id=customer_id, currency=currency,
                plan_ids=frozenset(self.plans.get(customer_id, ())),
            )
        for price in ordered:
            if not price.filters or price.matches(properties):
                return price
        return None

    def spec(self, price: Price) -> Any:
        spec = self._specs.get(price.id)
        if spec is None:
            spec = self._specs[price.id] = price.spec
        return spec

    def period_start(self, price: Price, customer_id: str, moment: datetime, timezone: str) -> datetime:
        """The start of the usage period of `price` containing `moment`: a billing period of the customer's
        subscription for a plan's price in the plan's interval, otherwise a calendar period."""
        subscribed = self.plans.get(customer_id, {}).get(price.plan_id) if price.plan_id else None
        if subscribed is not None and subscribed.interval == price.period:
            key: tuple[Any, ...] = (price.period, moment, timezone, subscribed.anchor_at)
            start = self._starts.get(key)
            if start is None:
                start = self._starts[key] = period_containing(subscribed.anchor_at, price.period, moment, timezone)
            return start
        key = (price.period, moment, timezone)
        start = self._starts.get(key)
        if start is None:
            start = self._starts[key] = period_start(price.period, moment, timezone)
        return start

    def fresh(self, books: list[WalletBook]) -> Rating:
        """The same prices and periods over newly read wallets."""
        rating = Rating(self.candidates, books, self.plans)
        rating._ordered, rating._specs, rating._starts = self._ordered, self._specs, self._starts
        return rating

    def book(self, customer_id: str, currency: str) -> WalletBook:
        key = (customer_id, currency)
        book = self._books.get(key)
        if book is None:
            book = self._books[key] = find_book(self.books, customer_id, currency)
        return book
