"""Usage events: recorded once per (customer, transaction_id), rated and charged in the same transaction.

Ingestion is set-based like debits: a request's events are validated, their wallets locked once (id
order), each event rated against its running (customer, price, period) aggregate in arrival order
(cost = price(units after) - price(units before), so tiers, packages and free units come out exact),
charged through the same in-memory debit planning as POST /v1/debits, and everything is written with
a handful of statements. A rejected event writes nothing; the accepted ones of a batch still commit.
No SAVEPOINT is needed: nothing is written until every event has been decided.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from creditflow import money
from creditflow.budgets import guard as budget_guard
from creditflow.db.tables import events
from creditflow.db.tx import Tx
from creditflow.errors import DomainError, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.ledger import repository as ledger_repository
from creditflow.ledger.bulk_write import SpendBatch, write_batch
from creditflow.ledger.models import system_account_id
from creditflow.ledger.spend import WalletBook, charge, find_book, open_books
from creditflow.metering import repository
from creditflow.metering.metrics import REAL_TIME, Metric, undeclared_property
from creditflow.metering.models import Aggregate, EventRequest, EventResult
from creditflow.metering.prices import Price, active_prices, choose_price
from creditflow.periods import period_start
from creditflow.pricing.models import incremental_cost, percentage_cost
from creditflow.pricing.specs import PercentageSpec


class NoPrice(InvalidRequest):
    code = "no_price"


class LateEvent(InvalidRequest):
    code = "event_too_old"


class PeriodClosed(InvalidRequest):
    code = "period_closed"


@dataclass(slots=True)
class _Accepted:
    """An event that passed validation, with its customer, metric and (for real-time metrics) price."""

    request: EventRequest
    customer_id: str
    customer_currency: str
    metric: Metric
    timestamp: datetime
    quantity: int
    price: Price | None = None
    period_start: datetime | None = None


async def ingest(
    tx: Tx,
    requests: list[EventRequest],
    *,
    late_window: timedelta,
    future_tolerance: timedelta,
    charge_wallet: bool = True,
) -> list[EventResult | DomainError]:
    """Record (and, for count and sum metrics, rate and charge) each event; with charge_wallet=False only
    price them: nothing is written (POST /v1/events/estimate)."""
    metrics_by_ref = await repository.metrics_by_ref(tx, {r.metric for r in requests})
    customers_by_ref = await repository.customers_by_ref(tx, {r.customer for r in requests})
    key_owners = await ledger_repository.api_key_owners(tx, {r.api_key for r in requests if r.api_key})
    candidates = await active_prices(tx, [m.id for m in {m.id: m for m in metrics_by_ref.values()}.values()])
    closed = await repository.closed_until(tx, {c.id for c in customers_by_ref.values()})
    checked: list[_Accepted | DomainError] = [
        _validate(tx, r, metrics_by_ref, customers_by_ref, key_owners, candidates, late_window, future_tolerance,
                  closed)
        for r in requests
    ]
    accepted = [c for c in checked if isinstance(c, _Accepted)]
    rated = [c for c in accepted if c.price is not None]
    # Every customer's wallets are locked before duplicates are looked up, so a concurrent request
    # carrying the same transaction_id waits here and then finds this one's event.
    books = await open_books(tx, {c.customer_id for c in accepted}) if accepted and charge_wallet else []
    existing = await repository.existing_events(tx, {(c.customer_id, c.request.transaction_id) for c in accepted})
    aggregates = await repository.load_aggregates(
        tx, {(c.customer_id, c.price.id, c.period_start) for c in rated if c.price and c.period_start}
    )
    batch = SpendBatch()
    event_rows: list[dict[str, Any]] = []
    outcomes: list[EventResult | DomainError] = []
    seen: dict[tuple[str, str], EventResult] = {}
    for item in checked:
        if isinstance(item, DomainError):
            outcomes.append(item)
            continue
        key = (item.customer_id, item.request.transaction_id)
        original = existing.get(key) or seen.get(key)
        if original is not None:
            outcomes.append(_as_duplicate(original, books))
            continue
        try:
            result = _rate_and_charge(tx, item, aggregates, books, batch, charge_wallet)
        except DomainError as error:
            outcomes.append(error)
            continue
        seen[key] = result
        outcomes.append(result)
        event_rows.append(_event_row(tx, item, result))
    if charge_wallet and event_rows:
        await write_batch(tx, batch)
        await tx.conn.execute(events.insert(), event_rows)
        await repository.save_aggregates(tx, aggregates)
    return outcomes


def _validate(
    tx: Tx,
    request: EventRequest,
    metrics_by_ref: dict[str, Metric],
    customers_by_ref: dict[str, Any],
    key_owners: dict[str, str],
    candidates: list[Price],
    late_window: timedelta,
    future_tolerance: timedelta,
    closed: dict[str, datetime],
) -> _Accepted | DomainError:
    metric = metrics_by_ref.get(request.metric)
    if metric is None or metric.status != "active":
        return NotFound(f"no active metric '{request.metric}'", param="metric")
    customer = customers_by_ref.get(request.customer)
    if customer is None:
        return NotFound(f"no customer '{request.customer}'", param="customer")
    if request.api_key is not None:
        mismatch = ledger_repository.api_key_mismatch(request.api_key, key_owners.get(request.api_key), customer.id)
        if mismatch is not None:
            return mismatch
    timestamp = request.timestamp or tx.now
    if timestamp > tx.now + future_tolerance:
        return InvalidRequest("timestamp is more than 5 minutes in the future", param="timestamp")
    if timestamp < tx.now - late_window:
        return LateEvent(f"timestamp is older than the late window of {late_window}", param="timestamp")
    if customer.id in closed and timestamp < closed[customer.id]:
        return PeriodClosed(f"the usage period before {closed[customer.id].isoformat()} is closed", param="timestamp")
    rejected = undeclared_property(metric, request.properties)
    if rejected is not None:
        return rejected
    try:
        quantity = _quantity(metric, request.properties)
    except InvalidRequest as error:
        return error
    accepted = _Accepted(request, customer.id, customer.currency, metric, timestamp, quantity)
    if metric.aggregation in REAL_TIME:
        price = choose_price(
            candidates,
            metric_id=metric.id,
            customer_id=customer.id,
            currency=customer.currency,
            properties=request.properties,
        )
        if price is None:
            return NoPrice(f"no price applies to this event of metric '{metric.code}'", param="metric")
        accepted.price = price
        accepted.period_start = period_start(price.period, timestamp, customer.timezone)
    return accepted


def _quantity(metric: Metric, properties: dict[str, Any]) -> int:
    """The event's units (micro-units): 1 for count, the field's exact decimal value otherwise."""
    if metric.aggregation == "count":
        return money.MICROS
    if metric.field not in properties:
        if metric.aggregation == "sum":
            raise InvalidRequest(
                f"a '{metric.code}' event needs the property '{metric.field}'", param=f"properties.{metric.field}"
            )
        return 0
    if metric.aggregation == "unique_count":
        return 0
    try:
        value = money.parse(properties[metric.field])
    except money.MoneyError as exc:
        raise InvalidRequest(f"properties.{metric.field}: {exc}", param=f"properties.{metric.field}") from None
    if value < 0:
        raise InvalidRequest(f"properties.{metric.field} must not be negative", param=f"properties.{metric.field}")
    return value


def _rate_and_charge(
    tx: Tx,
    item: _Accepted,
    aggregates: dict[tuple[str, str, datetime], Aggregate],
    books: list[WalletBook],
    batch: SpendBatch,
    charge_wallet: bool,
) -> EventResult:
    event_id = new_id("evt")
    price = item.price
    cost, operation_id, available, currency = 0, None, None, None
    aggregate = None
    if price is not None and item.period_start is not None:
        currency = price.currency
        aggregate = aggregates.setdefault(
            (item.customer_id, price.id, item.period_start), Aggregate(0, 0, 0, exists=False)
        )
        spec = price.spec
        if isinstance(spec, PercentageSpec):
            cost = percentage_cost(spec, item.quantity)
        else:
            cost = incremental_cost(spec, aggregate.units, aggregate.units + item.quantity, price.free_units_per_period)
        if charge_wallet:
            book = find_book(books, item.customer_id, price.currency)
            if cost > 0:
                debit = charge(
                    tx,
                    batch,
                    book,
                    cost,
                    actor=item.request.actor,
                    description=f"usage: {item.metric.code}",
                    metadata={"event": event_id, "metric": item.metric.code},
                    api_key_id=item.request.api_key,
                )
                operation_id = debit.id
            elif cost < 0:
                operation_id = _credit_back(tx, batch, book, -cost, event_id, item.request)
            available = book.state.available
        aggregate.units += item.quantity
        aggregate.events += 1
        aggregate.cost += cost
    return EventResult(
        id=event_id,
        customer_id=item.customer_id,
        metric=item.metric.code,
        transaction_id=item.request.transaction_id,
        timestamp=item.timestamp,
        properties=item.request.properties,
        quantity=item.quantity,
        cost=cost,
        currency=currency,
        price_id=price.id if price else None,
        operation_id=operation_id,
        refunded=0,
        created_at=tx.now,
        available=available,
    )


def _credit_back(tx: Tx, batch: SpendBatch, book: WalletBook, amount: int, event_id: str, request: EventRequest) -> str:
    """Volume pricing got cheaper: revenue gives the difference back to the wallet's own account (the one
    that also carries its overdraft; it is drawn after every lot), and to the budgets that counted the spend.
    Returns the operation's id."""
    operation_id = new_id("op")
    wallet = book.state
    batch.account_deltas[book.overdraft.account_id] = batch.account_deltas.get(book.overdraft.account_id, 0) + amount
    batch.wallet_deltas[wallet.id] = batch.wallet_deltas.get(wallet.id, 0) + amount
    batch.transfers.append(
        {
            "id": new_id("trf"),
            "operation_id": operation_id,
            "debit_account_id": system_account_id("revenue", wallet.unit),
            "credit_account_id": book.overdraft.account_id,
            "amount": amount,
            "unit": wallet.unit,
            "kind": "usage_credit",
            "created_at": tx.now,
        }
    )
    batch.operations.append(
        {
            "id": operation_id,
            "kind": "usage_credit",
            "customer_id": wallet.customer_id,
            "wallet_id": wallet.id,
            "unit": wallet.unit,
            "amount": amount,
            "reversed_amount": 0,
            "reference_id": None,
            "actor": request.actor or tx.actor,
            "description": "usage credit: a cheaper volume tier was reached",
            "metadata": {"event": event_id},
            "created_at": tx.now,
            "api_key_id": request.api_key,
        }
    )
    budget_guard.record_spend(batch.budgets, budget_guard.applicable(book.budgets, request.api_key), -amount, tx.now)
    book.overdraft.posted += amount
    wallet.posted += amount
    return operation_id


def _event_row(tx: Tx, item: _Accepted, result: EventResult) -> dict[str, Any]:
    return {
        "id": result.id,
        "customer_id": item.customer_id,
        "transaction_id": item.request.transaction_id,
        "metric_id": item.metric.id,
        "timestamp": item.timestamp,
        "properties": item.request.properties,
        "quantity": item.quantity,
        "price_id": result.price_id,
        "period_start": item.period_start,
        "cost": result.cost,
        "currency": result.currency,
        "operation_id": result.operation_id,
        "api_key_id": item.request.api_key,
        "refunded": 0,
        "created_at": tx.now,
    }


def _as_duplicate(original: EventResult, books: list[WalletBook]) -> EventResult:
    available = None
    if original.currency is not None:
        book = next(
            (b for b in books if b.state.customer_id == original.customer_id and b.state.unit == original.currency),
            None,
        )
        available = book.state.available if book else original.available
    return replace(original, available=available, duplicate=True)
