"""Auto top-up settings per wallet: PUT/GET/DELETE /v1/customers/{customer}/wallets/{currency}/auto_topup.
The job runner acts on them (runs.py)."""

from __future__ import annotations

from dataclasses import dataclass

from creditflow.auto_topups import repository
from creditflow.auto_topups.models import AutoTopup
from creditflow.config import Settings
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, NotFound
from creditflow.invoices.totals import to_minor
from creditflow.ledger.repository import lock_wallet
from creditflow.payment_methods.models import ACTIVE
from creditflow.payment_methods.service import PaymentMethodDetached, get_payment_method
from creditflow.payments.gateways.registry import GatewayRegistry
from creditflow.topups.packages import check_price_currency
from creditflow.topups.rules import check_limits
from creditflow.wallets.lookup import resolve_wallet


@dataclass(frozen=True, slots=True)
class AutoTopupRequest:
    threshold: int
    amount: int | None
    target_balance: int | None
    currency: str | None
    max_per_day: int
    payment_method: str | None
    link_gateway: str | None


async def set_auto_topup(
    tx: Tx, settings: Settings, gateways: GatewayRegistry, customer: str, unit: str, request: AutoTopupRequest
) -> AutoTopup:
    ref = await resolve_wallet(tx, customer, unit)
    await lock_wallet(tx, ref.wallet_id)  # one writer of the wallet's settings at a time
    currency = request.currency or ref.unit
    check_price_currency(currency, param="currency")
    rule = settings.topup_rules.get(currency)
    credited = rule.credit_unit if rule is not None and rule.credit_unit is not None else currency
    if credited != ref.unit:
        raise InvalidRequest(
            f"a top-up in {currency} credits the {credited} wallet, not this {ref.unit} one", param="currency"
        )
    if request.amount is not None:
        to_minor(request.amount, currency, param="amount")
        check_limits(rule, currency, request.amount, param="amount")
    if request.target_balance is not None and request.target_balance <= request.threshold:
        raise InvalidRequest("target_balance must be above threshold", param="target_balance")
    method_id = None
    if request.payment_method is not None:
        method = await get_payment_method(tx, ref.customer_id, request.payment_method)
        if method.status != ACTIVE:
            raise PaymentMethodDetached(f"payment method '{method.id}' is detached", param="payment_method")
        method_id = method.id
    if request.link_gateway is not None and request.link_gateway not in gateways:
        raise InvalidRequest(f"gateway '{request.link_gateway}' is not configured here", param="link_gateway")
    if method_id is None and request.link_gateway is None and await repository.default_method_id(
        tx, ref.customer_id
    ) is None:
        raise InvalidRequest(
            "the customer has no saved payment method to charge: save one with a Stripe top-up "
            "(save_payment_method), or give link_gateway to email a payment link instead",
            param="payment_method",
        )
    existing = await repository.load(tx, ref.wallet_id)
    await repository.save(
        tx,
        {
            "wallet_id": ref.wallet_id, "customer_id": ref.customer_id, "currency": currency,
            "threshold": request.threshold, "amount": request.amount, "target_balance": request.target_balance,
            "max_per_day": request.max_per_day, "payment_method_id": method_id, "link_gateway": request.link_gateway,
        },
        exists=existing is not None,
    )
    return await get_auto_topup(tx, customer, unit)


async def get_auto_topup(tx: Tx, customer: str, unit: str) -> AutoTopup:
    ref = await resolve_wallet(tx, customer, unit)
    found = await repository.load(tx, ref.wallet_id)
    if found is None:
        raise NotFound(f"the {ref.unit} wallet has no auto top-up", param="currency")
    return found


async def delete_auto_topup(tx: Tx, customer: str, unit: str) -> None:
    """Stop topping up automatically; attempts under way finish, and stay listed."""
    found = await get_auto_topup(tx, customer, unit)
    await repository.remove(tx, found.wallet_id)
