"""Lago events and current usage over creditflow's metering.

An event names a subscription (`external_subscription_id`); it is recorded for that subscription's customer,
and Lago's uniqueness, per (customer, external_subscription_id, transaction_id), is creditflow's (customer,
transaction_id) on a key that carries both: "<length of the subscription id>:<subscription id>:<transaction id>".

A batch is all or nothing: any refused event rolls the whole request back, errors keyed by index. Without
CREDITFLOW_LAGO_BLOCK_AT_ZERO (Lago's behaviour) an event is charged what its wallet can cover, down to the
credit limit, and the rest becomes debt (owed to revenue, collected from the next credits granted): the
wallet's ongoing balance is its available balance minus that amount due. With it, an event the wallet
cannot cover is refused with a 402 naming the failing indexes, and nothing is written.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from creditflow.customers.service import Customer, get_customer
from creditflow.db.tx import Tx
from creditflow.errors import DomainError, NotFound, PaymentRequired
from creditflow.lago import repository
from creditflow.lago.catalog import find_subscription, plan_charges
from creditflow.lago.convert import cents, event_time, invalid, iso
from creditflow.lago.routing import LagoError, render_domain_error
from creditflow.lago.wallets import find_wallet, render_wallet
from creditflow.ledger.debt import record_debt
from creditflow.metering.events import ingest
from creditflow.metering.metrics import get_metric
from creditflow.metering.models import EventRequest, EventResult
from creditflow.metering.usage import usage_report
from creditflow.money import format as format_amount
from creditflow.subscriptions.plans import get_plan
from creditflow.wallets.lookup import resolve_wallet
from creditflow.webhooks.outbox import emit

FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_BATCH = 100


@dataclass(frozen=True, slots=True)
class EventPolicy:
    late_window: timedelta
    block_at_zero: bool


def event_key(external_subscription_id: str, transaction_id: str) -> str:
    return f"{len(external_subscription_id)}:{external_subscription_id}:{transaction_id}"


def split_key(key: str) -> tuple[str, str] | None:
    """(external_subscription_id, transaction_id) of a key written by event_key; None for other events."""
    length, sep, rest = key.partition(":")
    if not sep or not length.isdigit() or len(rest) <= int(length) or rest[int(length)] != ":":
        return None
    return rest[: int(length)], rest[int(length) + 1:]


async def _request(tx: Tx, event: Any, actor: str) -> tuple[EventRequest, str]:
    subscription_id = event.external_subscription_id
    if subscription_id:
        row = await repository.load_subscription(tx, subscription_id)
        if row is None:
            raise NotFound(f"no subscription '{subscription_id}'", param="subscription")
        customer = row.customer_id
    elif event.external_customer_id:
        customer = event.external_customer_id
    else:
        raise invalid("external_subscription_id", "value_is_mandatory")
    request = EventRequest(
        customer=customer, metric=event.code, transaction_id=event_key(subscription_id or "", event.transaction_id),
        timestamp=event_time(event.timestamp), properties=event.properties or {}, actor=actor,
    )
    return request, subscription_id or ""


async def record_events(tx: Tx, events: list[Any], policy: EventPolicy, *, batch: bool) -> list[dict[str, Any]]:
    """Record every event or none; the Lago rendering of each."""
    if batch and not 0 < len(events) <= MAX_BATCH:
        raise invalid("events", "too_many_events" if events else "value_is_mandatory")
    requests, failures, subscriptions = [], {}, []
    for index, event in enumerate(events):
        try:
            request, subscription_id = await _request(tx, event, tx.actor)
        except DomainError as error:
            failures[index] = error
            continue
        requests.append((index, request))
        subscriptions.append(subscription_id)
    outcomes = await ingest(
        tx, [r for _, r in requests], late_window=policy.late_window, future_tolerance=FUTURE_TOLERANCE,
        cover_partially=not policy.block_at_zero,
    ) if requests else []
    rendered = []
    for (index, _), outcome, subscription_id in zip(requests, outcomes, subscriptions, strict=True):
        if isinstance(outcome, DomainError):
            failures[index] = outcome
        elif outcome.duplicate:
            failures[index] = invalid("transaction_id", "value_already_exist")
        else:
            rendered.append(render_event(outcome, subscription_id, events[index].transaction_id))
    if failures:
        raise _refusal(failures, batch=batch)
    spent: dict[tuple[str, str], int] = {}
    for outcome in outcomes:
        assert isinstance(outcome, EventResult)
        if outcome.currency is None:
            continue
        key = (outcome.customer_id, outcome.currency)
        spent[key] = spent.get(key, 0) + outcome.cost
        if outcome.uncovered:
            ref = await resolve_wallet(tx, outcome.customer_id, outcome.currency)
            await record_debt(
                tx, ref.wallet_id, outcome.uncovered, reference_id=outcome.id, creditor="revenue",
                description=f"usage not covered by the balance: {outcome.metric}", metadata={"event": outcome.id},
            )
    for (customer_id, currency), cost in spent.items():
        await _announce_depletion(tx, customer_id, currency, cost)
    return rendered


async def _announce_depletion(tx: Tx, customer_id: str, currency: str, cost: int) -> None:
    """wallet.depleted_ongoing_balance when this request's usage took the ongoing balance from above zero to zero
    or below (each event lowers it by exactly its cost: what the wallet paid, or what became due)."""
    ref = await resolve_wallet(tx, customer_id, currency)
    row = await repository.wallet_of(tx, ref.wallet_id)
    if row is None or cost <= 0:
        return
    found = await find_wallet(tx, row.id)
    ongoing = found.view.state.available - found.view.debt
    if ongoing <= 0 < ongoing + cost:
        await emit(tx, "wallet.depleted_ongoing_balance", {"wallet": render_wallet(found)})


def _refusal(failures: dict[int, DomainError], *, batch: bool) -> DomainError:
    """One error for the request: a 402 naming the unfunded events if any, else Lago's validation errors."""
    unfunded = sorted(i for i, error in failures.items() if isinstance(error, PaymentRequired))
    if not batch:
        return next(iter(failures.values()))
    if unfunded:
        return LagoError(402, "insufficient_funds", "the wallet does not cover these events; nothing was recorded",
                         {str(i): [failures[i].code] for i in unfunded})
    details: dict[str, Any] = {}
    for index, error in sorted(failures.items()):
        body = render_domain_error(error).body
        details[str(index)] = _details_of(error, bytes(body))
    return LagoError(422, "validation_errors", "no event was recorded", details)


def _details_of(error: DomainError, body: bytes) -> Any:
    parsed = json.loads(body)
    return parsed.get("error_details") or {error.param or "base": [parsed.get("code", error.code)]}


async def estimate_fees(tx: Tx, event: Any, policy: EventPolicy) -> list[dict[str, Any]]:
    """What the event would cost now, priced exactly as it would be charged; nothing is written."""
    request, subscription_id = await _request(tx, event, tx.actor)
    (outcome,) = await ingest(
        tx, [request], late_window=policy.late_window, future_tolerance=FUTURE_TOLERANCE, charge_wallet=False
    )
    if isinstance(outcome, DomainError):
        raise outcome
    metric = await get_metric(tx, outcome.metric)
    currency = outcome.currency or (await get_customer(tx, outcome.customer_id)).currency
    fee = cents(outcome.cost, currency)
    return [{
        "lago_id": None, "lago_charge_id": outcome.price_id, "lago_invoice_id": None, "lago_subscription_id": None,
        "external_subscription_id": subscription_id, "amount_cents": fee, "amount_currency": currency,
        "precise_amount": format_amount(outcome.cost, currency), "taxes_amount_cents": 0, "total_amount_cents": fee,
        "units": format_amount(outcome.quantity, "UNITS"), "events_count": 1, "pay_in_advance": True,
        "invoiceable": True, "from_date": None, "to_date": None, "payment_status": "pending",
        "item": {"type": "charge", "code": metric.code, "name": metric.name, "lago_item_id": outcome.price_id,
                 "item_type": "BillableMetric"},
    }]


def render_event(result: EventResult, subscription_id: str, transaction_id: str) -> dict[str, Any]:
    return {
        "lago_id": result.id, "transaction_id": transaction_id, "lago_customer_id": result.customer_id,
        "code": result.metric, "timestamp": iso(result.timestamp), "properties": result.properties,
        "lago_subscription_id": None, "external_subscription_id": subscription_id, "external_customer_id": None,
        "precise_total_amount_cents": None, "created_at": iso(result.created_at),
    }


async def find_event(tx: Tx, transaction_id: str) -> dict[str, Any]:
    for row in await repository.events_ending_with(tx, ":" + transaction_id):
        parts = split_key(row.transaction_id)
        if parts is not None and parts[1] == transaction_id:
            metric = await get_metric(tx, row.metric_id)
            return {
                "lago_id": row.id, "transaction_id": transaction_id, "lago_customer_id": row.customer_id,
                "code": metric.code, "timestamp": iso(row.timestamp), "properties": row.properties,
                "lago_subscription_id": None, "external_subscription_id": parts[0], "external_customer_id": None,
                "precise_total_amount_cents": None, "created_at": iso(row.created_at),
            }
    raise NotFound(f"no event '{transaction_id}'", param="event")


async def current_usage(tx: Tx, external_customer_id: str, external_subscription_id: str) -> dict[str, Any]:
    """The subscription's billing period so far: a fee per charge, in cents rounded half-up once each."""
    owner: Customer = await get_customer(tx, external_customer_id)
    subscription, _ = await find_subscription(tx, external_subscription_id)
    if subscription.customer_id != owner.id:
        raise NotFound(f"no subscription '{external_subscription_id}' for this customer", param="subscription")
    plan = await get_plan(tx, subscription.plan_id)
    start: datetime = subscription.current_period_start
    # The whole period, as Lago shows it: events time-stamped a little ahead (allowed) count too.
    report = await usage_report(
        tx, owner.id, start=start, end=subscription.current_period_end, metric=None, group_by="metric"
    )
    rows = {row.metric: row for row in report.rows}
    usage = []
    for price in await plan_charges(tx, plan):
        metric = await get_metric(tx, price.metric_id)
        row = rows.get(metric.code)
        units = format_amount(row.units if row else 0, "UNITS")
        fee = cents(row.cost if row else 0, plan.currency)
        usage.append({
            "units": units, "total_aggregated_units": units, "events_count": row.events if row else 0,
            "amount_cents": fee, "amount_currency": plan.currency, "pricing_unit_details": None,
            "charge": {"lago_id": price.id, "charge_model": price.model, "invoice_display_name": None},
            "billable_metric": {"lago_id": metric.id, "name": metric.name, "code": metric.code,
                                "aggregation_type": f"{metric.aggregation}_agg"},
            "filters": [], "grouped_usage": [],
        })
    total = sum(item["amount_cents"] for item in usage)
    return {
        "from_datetime": iso(start), "to_datetime": iso(subscription.current_period_end),
        "issuing_date": subscription.current_period_end.date().isoformat(), "currency": plan.currency,
        "amount_cents": total, "total_amount_cents": total, "taxes_amount_cents": 0, "charges_usage": usage,
    }
