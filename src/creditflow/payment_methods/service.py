"""Saved payment methods: list them, choose the default, detach one, and charge one off-session.

A method is saved by a paid checkout that asked for it (saving.py); these functions manage it afterwards.
Gateway calls are never made inside a transaction (DESIGN.md, 5): detaching and charging each commit what
they know, call the gateway, then commit what it answered.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import timedelta

from creditflow.customers.service import get_customer
from creditflow.db.tx import Tx
from creditflow.errors import Conflict, IdempotencyKeyReused, NotFound, PaymentRequired
from creditflow.payment_methods import repository
from creditflow.payment_methods.events import emit_payment_method
from creditflow.payment_methods.models import ACTIVE, PaymentMethod
from creditflow.payments.gateways.base import PaymentGateway, PaymentStatus, SavedMethodCharge
from creditflow.payments.gateways.errors import GatewayRefused, GatewayUnavailable
from creditflow.topups import repository as topups
from creditflow.topups.apply import apply_status
from creditflow.topups.context import Context
from creditflow.topups.models import CREDITED, EXPIRED, FAILED, PENDING, Topup
from creditflow.topups.service import get_topup, open_order

# What an off-session charge came to (ChargeResult.outcome).
PAID = "paid"
"""The top-up is paid and credited (by this call, or by the gateway's webhook before it)."""
REQUIRES_ACTION = "requires_action"
"""The customer's bank asks for the customer (3-D Secure): the top-up stays pending until they complete it."""
PROCESSING = "processing"
"""The gateway has not settled the payment yet: the top-up stays pending; its webhook settles it."""
DECLINED = "declined"
"""The card was declined: the top-up is failed and failure_reason says why."""
EXPIRED_UNPAID = "expired"
"""The top-up under this idempotency key expired before its payment was confirmed."""

# Gateways keep idempotency keys for at least 24 hours (Stripe): a charge whose outcome is unknown is sent again,
# under the same key, only well within that, so the gateway answers the first attempt instead of charging twice.
_RESEND_WITHIN = timedelta(hours=23)


class PaymentMethodDetached(Conflict):
    code = "payment_method_detached"


class ChargeFailed(PaymentRequired):
    """The off-session charge ended unpaid; details name the top-up."""

    code = "charge_failed"


class CardDeclined(ChargeFailed):
    code = "card_declined"


@dataclass(frozen=True, slots=True)
class ChargeResult:
    topup: Topup
    outcome: str
    """PAID, REQUIRES_ACTION, PROCESSING, DECLINED or EXPIRED_UNPAID."""


async def get_payment_method(tx: Tx, customer: str, method_id: str) -> PaymentMethod:
    """The method, if it is this customer's (id or external_id); another customer's is not found."""
    return await _load(tx, (await get_customer(tx, customer)).id, method_id)


async def _load(tx: Tx, customer_id: str, method_id: str) -> PaymentMethod:
    method = await repository.load(tx, customer_id, method_id)
    if method is None:
        raise NotFound(f"the customer has no payment method '{method_id}'", param="id")
    return method


async def list_payment_methods(
    tx: Tx, customer: str, *, include_detached: bool, limit: int, starting_after: str | None
) -> list[PaymentMethod]:
    owner = await get_customer(tx, customer)
    return await repository.list_for_customer(
        tx, owner.id, include_detached=include_detached, limit=limit, starting_after=starting_after
    )


async def make_default(tx: Tx, customer: str, method_id: str) -> PaymentMethod:
    """The method becomes the customer's default (what auto top-up charges); the previous default stays saved."""
    owner = await get_customer(tx, customer)
    await repository.lock_customer_methods(tx, owner.id)
    method = await _load(tx, owner.id, method_id)
    if method.status != ACTIVE:
        raise PaymentMethodDetached(f"payment method '{method_id}' is detached", param="id")
    await repository.make_default(tx, owner.id, method.id)
    return await _load(tx, owner.id, method_id)


async def detach(ctx: Context, customer: str, method_id: str) -> PaymentMethod:
    """Detach the method at its gateway, then here; a detached method answers as it is. The gateway's refusal or
    absence (GatewayRefused, GatewayUnavailable) changes nothing here. A default that goes passes to the newest
    other active method."""
    async with ctx.transaction() as tx:
        method = await get_payment_method(tx, customer, method_id)
    if method.status != ACTIVE:
        return method
    await ctx.gateways.get(method.gateway).detach_payment_method(method.at_gateway)
    async with ctx.transaction() as tx:
        await repository.lock_customer_methods(tx, method.customer_id)
        current = await _load(tx, method.customer_id, method_id)
        if await repository.mark_detached(tx, method_id):
            if current.is_default and (successor := await repository.newest_active(tx, method.customer_id)):
                await repository.make_default(tx, method.customer_id, successor)
            current = await _load(tx, method.customer_id, method_id)
            await emit_payment_method(tx, "payment_method.detached", current)
        return current


async def charge_saved(
    ctx: Context,
    *,
    customer: str,
    payment_method_id: str,
    idempotency_key: str,
    package_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
) -> ChargeResult:
    """Top up `customer` by charging its saved method off-session (no customer present): what auto top-up calls.

    The order is priced exactly like POST /v1/topups (a package, or an amount and currency: limits, tax, bonus
    tiers) and committed as a pending top-up whose id is the gateway's idempotency key and travels in the
    payment's metadata; the gateway's answer is applied through topups/apply.py like its webhook, so the payment
    is credited once whichever arrives first.

    `idempotency_key` (per customer) makes the charge safe to retry: the same key finds the same top-up instead
    of charging again. A pending one is asked about again (its charge re-sent under the same gateway key when its
    outcome is unknown); a settled one is returned as it is. The same key for another charge raises
    IdempotencyKeyReused.

    Returns the top-up with its outcome; a decline is an outcome (DECLINED, the top-up failed), not an error.
    Raises NotFound (customer, method), PaymentMethodDetached, InvalidRequest (the order's pricing rules),
    GatewayUnavailable (outcome unknown: the top-up stays pending, retry with the same key) and GatewayRefused
    (the gateway refused the request itself: the top-up is failed); gateway errors name the top-up in details.
    """
    async with ctx.transaction() as tx:
        owner = await get_customer(tx, customer)
        method = await _load(tx, owner.id, payment_method_id)
        topup = await topups.load_by_charge_key(tx, owner.id, idempotency_key)
        if topup is None:
            _require_active(method)
            topup = await open_order(
                tx, ctx, ctx.gateways.get(method.gateway), owner=owner, package_id=package_id, amount=amount,
                currency=currency, payment_method_id=method.id, charge_key=idempotency_key,
            )
        elif (topup.payment_method_id, topup.package_id) != (method.id, package_id) or (
            package_id is None and (topup.amount, topup.currency) != (amount, currency)
        ):
            raise IdempotencyKeyReused(
                "this idempotency key was already used for another charge", param="idempotency_key",
                details={"topup": topup.id},
            )
    if topup.status != PENDING:
        return ChargeResult(topup=topup, outcome=_outcome(topup, None))
    gateway = ctx.gateways.get(topup.gateway)
    if topup.gateway_reference is not None:
        status = await _named(gateway.fetch_status(topup.gateway_reference), topup)
    elif ctx.clock.now() - topup.created_at < _RESEND_WITHIN:
        _require_active(method)
        status = await _charge(ctx, gateway, topup, method)
    else:
        # Too late to send the same charge again safely: the gateway's webhook (or the expiry job) settles it.
        return ChargeResult(topup=topup, outcome=PROCESSING)
    async with ctx.transaction() as tx:
        locked = await topups.load_topup(tx, topup.id, for_update=True)
        assert locked is not None
        if locked.gateway_reference is None and status.payment_id:
            # The PaymentIntent is this top-up's reference from now on: reconciliation and expiry read it.
            await topups.update_topup(tx, topup.id, gateway_reference=status.payment_id)
        await apply_status(tx, locked, status, issuer=ctx.issuer, source=f"charge:{status.payment_id or topup.id}")
        topup = await get_topup(tx, topup.id)
    return ChargeResult(topup=topup, outcome=_outcome(topup, status))


def _require_active(method: PaymentMethod) -> None:
    if method.status != ACTIVE:
        raise PaymentMethodDetached(f"payment method '{method.id}' is detached and cannot be charged", param="id")


async def _charge(ctx: Context, gateway: PaymentGateway, topup: Topup, method: PaymentMethod) -> PaymentStatus:
    """Charge the card under the top-up's id. GatewayUnavailable leaves the top-up pending (the card may have been
    charged: a retry under the same key sends the same request, which the gateway carries out once)."""
    request = SavedMethodCharge(
        topup_id=topup.id, amount=topup.total, currency=topup.currency, saved_method=method.at_gateway,
        description=topup.description,
    )
    try:
        return await _named(gateway.charge_saved_method(request), topup)
    except GatewayRefused as refusal:
        # The gateway refused the request itself (not a decline): nothing was charged.
        async with ctx.transaction() as tx:
            await topups.move_status(
                tx, topup.id, allowed=(PENDING,), status=FAILED, failure_reason=f"charge refused: {refusal.message}"
            )
        raise


async def _named(call: Awaitable[PaymentStatus], topup: Topup) -> PaymentStatus:
    """Await a gateway call; its errors name the top-up, as POST /v1/topups's do."""
    try:
        return await call
    except (GatewayUnavailable, GatewayRefused) as error:
        if error.details is not None:
            error.details["topup"] = topup.id
        raise


def _outcome(topup: Topup, status: PaymentStatus | None) -> str:
    if topup.status in CREDITED:
        return PAID
    if topup.status == FAILED:
        return DECLINED
    if topup.status == EXPIRED:
        return EXPIRED_UNPAID
    return REQUIRES_ACTION if status is not None and status.raw_status == REQUIRES_ACTION else PROCESSING
