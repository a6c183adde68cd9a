"""Usage events: recorded once per (customer, transaction_id), rated and charged in the same transaction.

Ingestion is set-based like debits: a request's events are validated, their wallets locked once (id
order), each event rated against its running (customer, price, period) aggregate in arrival order
(cost = price(units after) - price(units before), so tiers, packages and free units come out exact),
charged through the same in-memory debit planning as POST /v1/debits, and everything is written with
a handful of statements. A rejected event writes nothing; the accepted ones of a batch still commit.
No SAVEPOINT is needed: nothing is written until every event has been decided.

The charged events of one request and one (wallet, api key) share ONE debit operation, with one transfer
per account drawn, rather than an operation and a transfer each: the ledger grows per request, not per
event. Each event keeps its own row, cost and aggregate step, names that operation (`operation_id`), and
is refunded on its own: queries.refund_event takes back just its cost from the shared debit. Credit-backs
of volume prices stay one operation per event.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from creditflow import money
from creditflow.budgets import guard as budget_guard
from creditflow.db.tx import Tx
from creditflow.errors import AmountTooLarge, DomainError, InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.ledger import repository as ledger_repository
from creditflow.ledger.bulk_write import SpendBatch, write_batch
from creditflow.ledger.models import system_account_id
from creditflow.ledger.spend import SharedDebit, WalletBook, add_charge, close_debit, open_books, open_debit
from creditflow.metering import repository
from creditflow.metering.metrics import REAL_TIME, Metric, undeclared_property
from creditflow.metering.models import Aggregate, EventRequest, EventResult
from creditflow.metering.prices import Price, active_prices
from creditflow.metering.rating import Rating
from creditflow.pricing.models import incremental_cost, percentage_cost
from creditflow.pricing.specs import PercentageSpec
from creditflow.pricing.validation import parse_quantity


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


@dataclass(slots=True)
class _UsageDebit:
    """The one debit a batch's charged events of one (wallet, api key) share, and what it names in its metadata."""

    debit: SharedDebit
    actor: str | None
    first_event: str
    metrics: list[str]


async def ingest(
    tx: Tx,
    requests: list[EventRequest],
    *,
    late_window: timedelta,
    future_tolerance: timedelta,
    charge_wallet: bool = True,
    cover_partially: bool = False,
) -> list[EventResult | DomainError]:
    """Record (and, for count and sum metrics, rate and charge) each event; with charge_wallet=False only
    price them: nothing is written (POST /v1/events/estimate). With cover_partially an event the wallet cannot
    cover is still recorded: it is charged what the wallet can give, and the rest is its `uncovered` amount
    (the Lago API's behaviour; the caller decides what the customer owes for it).

    The charged events of one (wallet, api key) share one debit operation, with one transfer per account
    drawn; each event keeps its own cost and names that operation (refunds take back one event's cost).
    """
    metrics_by_ref = await repository.metrics_by_ref(tx, {r.metric for r in requests})
    customers_by_ref = await repository.customers_by_ref(tx, {r.customer for r in requests})
    key_owners = await ledger_repository.api_key_owners(tx, {r.api_key for r in requests if r.api_key})
    candidates = await active_prices(tx, [m.id for m in {m.id: m for m in metrics_by_ref.values()}.values()])
    closed = await repository.closed_until(tx, {c.id for c in customers_by_ref.values()})
    plans = await repository.subscribed_plans(tx, {c.id for c in customers_by_ref.values()}, candidates)
    rating = Rating(candidates, [], plans)
    window = (tx.now - late_window, tx.now + future_tolerance)
    checked: list[_Accepted | DomainError] = [
        _validate(tx, r, metrics_by_ref, customers_by_ref, key_owners, rating, window, late_window, closed)
        for r in requests
    ]
    accepted = [c for c in checked if isinstance(c, _Accepted)]
    if not charge_wallet:
        existing = await repository.existing_events(tx, {(c.customer_id, c.request.transaction_id) for c in accepted})
        aggregates = await _aggregates_of(tx, accepted)
        return _plan(tx, checked, existing, aggregates, rating, charge_wallet=False).outcomes
    # Every customer's wallets are locked before duplicates are looked for, so a concurrent request
    # carrying the same transaction_id waits here and then finds this one's event.
    customer_ids = {c.customer_id for c in accepted}
    rating.books = await open_books(tx, customer_ids) if accepted else []
    loaded = await _aggregates_of(tx, accepted)
    pairs = {(c.customer_id, c.request.transaction_id) for c in accepted}
    if repository.INSERT_FINDS_DUPLICATES[tx.conn.dialect.name]:
        plan = await _record_optimistically(tx, checked, pairs, loaded, rating, customer_ids, cover_partially)
    else:
        plan = _plan(tx, checked, await repository.existing_events(tx, pairs), loaded, rating,
                     cover_partially=cover_partially)
        await repository.insert_events(tx, plan.new_events, loaded)
    for usage in plan.debits.values():
        _close(tx, plan.batch, usage)
    await write_batch(tx, plan.batch)
    return plan.outcomes


async def _record_optimistically(
    tx: Tx,
    checked: list[_Accepted | DomainError],
    pairs: set[tuple[str, str]],
    loaded: dict[tuple[str, str, datetime], Aggregate],
    rating: Rating,
    customer_ids: set[str],
    cover_partially: bool,
) -> _Plan:
    """PostgreSQL: plan as if no event were a retry and insert the events, each skipped if its (customer,
    transaction_id) is already taken: the unique index answers, with no lookup beforehand (whose plan, made
    while the table is small and has no statistics, can scan every event of the customer).

    Retries are the exception. When one is skipped, what was just written (the other events, the usage
    aggregates it created) is taken out again, and the request is planned anew knowing its duplicates.
    An event refused while being charged (no funds, a budget) would not reach the insert, so when there is
    one the duplicates are looked up first instead, as on SQLite."""
    aggregates = _copy(loaded)
    plan = _plan(tx, checked, {}, aggregates, rating, cover_partially=cover_partially)
    existing: dict[tuple[str, str], EventResult] = {}
    if plan.refused:
        existing = await repository.existing_events(tx, pairs)
    if not existing:
        skipped = await repository.insert_events(tx, plan.new_events, aggregates)
        if not skipped:
            return plan
        await repository.delete_events(tx, [i for i in plan.new_events.ids if i not in skipped])
        await repository.delete_aggregates(tx, [k for k, a in aggregates.items() if not a.exists and a.events])
        # The insert also wrote the running totals of the aggregates that existed, counting the skipped
        # retries: they go back to what was read, since the plan anew may write none of them (all retries).
        await repository.save_aggregates(tx, loaded)
        existing = await repository.existing_events(tx, pairs)
    rating = rating.fresh(await open_books(tx, customer_ids))
    aggregates = _copy(loaded)
    plan = _plan(tx, checked, existing, aggregates, rating, cover_partially=cover_partially)
    if await repository.insert_events(tx, plan.new_events, aggregates):
        raise RuntimeError("an event was recorded concurrently although its customer's wallets are locked")
    return plan


def _copy(aggregates: dict[tuple[str, str, datetime], Aggregate]) -> dict[tuple[str, str, datetime], Aggregate]:
    return {key: Aggregate(a.units, a.events, a.cost, a.exists) for key, a in aggregates.items()}


async def _aggregates_of(tx: Tx, accepted: list[_Accepted]) -> dict[tuple[str, str, datetime], Aggregate]:
    return await repository.load_aggregates(
        tx, {(c.customer_id, c.price.id, c.period_start) for c in accepted if c.price and c.period_start}
    )


@dataclass(slots=True)
class _Plan:
    """A request's events decided in memory: outcomes, ledger rows, the events to insert."""

    outcomes: list[EventResult | DomainError] = field(default_factory=list)
    # (customer id, transaction_id) of the events refused while being rated or charged.
    refused: set[tuple[str, str]] = field(default_factory=set)
    batch: SpendBatch = field(default_factory=SpendBatch)
    debits: dict[tuple[str, str | None, str | None, int], _UsageDebit] = field(default_factory=dict)
    new_events: repository.NewEvents = field(default_factory=repository.NewEvents)


def _plan(
    tx: Tx,
    checked: list[_Accepted | DomainError],
    existing: dict[tuple[str, str], EventResult],
    aggregates: dict[tuple[str, str, datetime], Aggregate],
    rating: Rating,
    *,
    charge_wallet: bool = True,
    cover_partially: bool = False,
) -> _Plan:
    """Rate (and charge, in memory: the wallets' books and the aggregates move) each event in arrival order."""
    plan = _Plan()
    outcomes = plan.outcomes
    seen: dict[tuple[str, str], EventResult] = {}
    for item in checked:
        if isinstance(item, DomainError):
            outcomes.append(item)
            continue
        key = (item.customer_id, item.request.transaction_id)
        original = existing.get(key) or seen.get(key)
        if original is not None:
            outcomes.append(_as_duplicate(original, rating.books))
            continue
        try:
            result = _rate_and_charge(
                tx, item, aggregates, rating, plan.batch, plan.debits, charge_wallet, cover_partially
            )
        except DomainError as error:
            outcomes.append(error)
            plan.refused.add(key)
            continue
        seen[key] = result
        outcomes.append(result)
        if charge_wallet:
            plan.new_events.add(item.request, item.metric.id, item.period_start, result)
    return plan


def _validate(
    tx: Tx,
    request: EventRequest,
    metrics_by_ref: dict[str, Metric],
    customers_by_ref: dict[str, repository.CustomerRef],
    key_owners: dict[str, str],
    rating: Rating,
    window: tuple[datetime, datetime],
    late_window: timedelta,
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
    if timestamp is not tx.now:
        if timestamp > window[1]:
            return InvalidRequest("timestamp is more than 5 minutes in the future", param="timestamp")
        if timestamp < window[0]:
            return LateEvent(f"timestamp is older than the late window of {late_window}", param="timestamp")
    if closed and customer.id in closed and timestamp < closed[customer.id]:
        return PeriodClosed(f"the usage period before {closed[customer.id].isoformat()} is closed", param="timestamp")
    properties = request.properties
    if metric.filters and properties:
        rejected = undeclared_property(metric, properties)
        if rejected is not None:
            return rejected
    if metric.aggregation == "count":
        quantity = money.MICROS
    else:
        try:
            quantity = _quantity(metric, properties)
        except InvalidRequest as error:
            return error
    accepted = _Accepted(request, customer.id, customer.currency, metric, timestamp, quantity)
    if metric.aggregation in REAL_TIME:
        price = rating.price(metric.id, customer.id, customer.currency, properties)
        if price is None:
            return NoPrice(f"no price applies to this event of metric '{metric.code}'", param="metric")
        accepted.price = price
        accepted.period_start = rating.period_start(price, customer.id, timestamp, customer.timezone)
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
    return parse_quantity(properties[metric.field], f"properties.{metric.field}")


def _rate_and_charge(
    tx: Tx,
    item: _Accepted,
    aggregates: dict[tuple[str, str, datetime], Aggregate],
    rating: Rating,
    batch: SpendBatch,
    debits: dict[tuple[str, str | None, str | None, int], _UsageDebit],
    charge_wallet: bool,
    cover_partially: bool = False,
) -> EventResult:
    event_id = new_id("evt")
    price = item.price
    cost, operation_id, available, currency, uncovered = 0, None, None, None, 0
    if price is not None and item.period_start is not None:
        currency = price.currency
        key = (item.customer_id, price.id, item.period_start)
        aggregate = aggregates.get(key)
        if aggregate is None:
            aggregate = aggregates[key] = Aggregate(0, 0, 0, exists=False)
        spec = rating.spec(price)
        _check_bounds(aggregate.units + item.quantity, "the period's usage would pass the largest total")
        if isinstance(spec, PercentageSpec):
            cost = percentage_cost(spec, item.quantity)
        else:
            cost = incremental_cost(spec, aggregate.units, aggregate.units + item.quantity, price.free_units_per_period)
        _check_bounds(abs(cost), "the event's cost would pass the largest amount", money.MAX_AMOUNT)
        _check_bounds(aggregate.cost + cost, "the period's usage cost would pass the largest total")
        if charge_wallet:
            book = rating.book(item.customer_id, currency)
            request = item.request
            charged = cost
            if cover_partially and cost > book.state.available:
                charged = max(book.state.available, 0)
                uncovered = cost - charged
            if charged > 0:
                group = (book.state.id, request.api_key, request.actor, request.origin)
                usage = debits.get(group)
                if usage is None:
                    usage = debits[group] = _UsageDebit(open_debit(book, request.api_key), request.actor, "", [])
                add_charge(tx, batch, usage.debit, charged)
                if usage.debit.charges == 1:
                    usage.first_event = event_id
                if item.metric.code not in usage.metrics:
                    usage.metrics.append(item.metric.code)
                operation_id = usage.debit.id
            elif cost < 0:
                operation_id = _credit_back(tx, batch, book, -cost, event_id, request)
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
        uncovered=uncovered,
    )


def _check_bounds(value: int, message: str, bound: int = money.MAX_BALANCE) -> None:
    """Refuse this one event (422, nothing of it written) rather than let a running total pass 64 bits: the
    period's later events are still rated."""
    if value > bound:
        raise AmountTooLarge(message, param="properties")


def _close(tx: Tx, batch: SpendBatch, usage: _UsageDebit) -> None:
    """Write a batch's shared usage debit: one event's names it (as a debit per event always did); several
    are counted, and each names the debit in its operation_id."""
    debit = usage.debit
    metrics = ", ".join(usage.metrics)
    if debit.charges == 1:
        metadata = {"event": usage.first_event, "metric": metrics}
    else:
        metadata = {"events": str(debit.charges), "metric": metrics}
    close_debit(tx, batch, debit, actor=usage.actor, description=f"usage: {metrics}", metadata=metadata)


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


def _as_duplicate(original: EventResult, books: list[WalletBook]) -> EventResult:
    available = None
    if original.currency is not None:
        book = next(
            (b for b in books if b.state.customer_id == original.customer_id and b.state.unit == original.currency),
            None,
        )
        available = book.state.available if book else original.available
    return replace(original, available=available, duplicate=True)
