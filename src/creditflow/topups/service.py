"""Top-up orders: open one with its gateway, read them, and confirm a Razorpay checkout result.

Opening a top-up takes three steps, never a gateway call inside a transaction (DESIGN.md, 5):
1. one transaction prices the order and commits it as `pending` (its id becomes the gateway's order id,
   receipt, client reference and idempotency key);
2. the gateway call, outside any transaction;
3. one transaction stores the checkout (reference, URL, token). If the call failed, this step marks the
   top-up `failed` instead, so no pending order is left that nobody can pay; the caller gets the gateway
   error (503 unavailable, 502 refused) naming the top-up. A payment that still arrives is credited.
"""

from __future__ import annotations

from datetime import timedelta

from creditflow.config import Settings
from creditflow.coupons import service as coupons
from creditflow.coupons.models import Effect
from creditflow.customers.service import Customer, get_customer
from creditflow.db.tx import Tx
from creditflow.errors import InvalidRequest, NotFound
from creditflow.ids import new_id
from creditflow.invoices.totals import from_minor as invoice_minor_unit
from creditflow.invoices.totals import to_minor
from creditflow.payment_methods import repository as payment_methods
from creditflow.payments.gateways.base import CheckoutRequest, PaymentGateway
from creditflow.payments.gateways.errors import GatewayError
from creditflow.topups import repository
from creditflow.topups.apply import apply_status
from creditflow.topups.context import Context
from creditflow.topups.models import FAILED, PENDING, Topup
from creditflow.topups.packages import check_price_currency, terms_of
from creditflow.topups.rules import CreditTerms, Quote, quote
from creditflow.wallets.lookup import resolve_wallet

RAZORPAY = "razorpay"


def charge_step(gateway: PaymentGateway, currency: str) -> int:
    """The smallest amount (micro-units) both the gateway and an invoice can show: taxes are rounded to it."""
    return max(gateway.from_minor(1, currency), invoice_minor_unit(1, currency))


async def get_topup(tx: Tx, topup_id: str) -> Topup:
    topup = await repository.load_topup(tx, topup_id)
    if topup is None:
        raise NotFound(f"no top-up '{topup_id}'", param="id")
    return topup


async def list_topups(
    tx: Tx, *, customer_id: str | None, status: str | None, limit: int, starting_after: str | None
) -> list[Topup]:
    return await repository.list_topups(
        tx, customer_id=customer_id, status=status, limit=limit, starting_after=starting_after
    )


async def create_topup(
    ctx: Context,
    *,
    customer: str,
    gateway_name: str,
    package_id: str | None = None,
    amount: int | None = None,
    currency: str | None = None,
    return_url: str | None = None,
    save_payment_method: bool = False,
    coupon: str | None = None,
) -> Topup:
    gateway = ctx.gateways.get(gateway_name)
    if save_payment_method and not gateway.saves_payment_methods:
        raise InvalidRequest(
            f"save_payment_method needs a gateway that keeps payment methods (stripe); {gateway.name} does not",
            param="save_payment_method",
        )
    async with ctx.transaction() as tx:
        owner = await get_customer(tx, customer)
        topup = await open_order(
            tx, ctx, gateway, owner=owner, package_id=package_id, amount=amount, currency=currency,
            return_url=return_url, save_payment_method=save_payment_method, coupon=coupon,
        )
        # Every card the customer saves goes on one gateway customer, so any of them can be charged the same way.
        known_customer = None
        if save_payment_method:
            known_customer = await payment_methods.gateway_customer(tx, owner.id, gateway.name)
    request = CheckoutRequest(
        topup_id=topup.id, amount=topup.total, currency=topup.currency, description=topup.description,
        expires_at=topup.expires_at, return_url=return_url, customer_name=owner.name, customer_email=owner.email,
        save_payment_method=save_payment_method, gateway_customer=known_customer,
    )
    try:
        checkout = await gateway.create_checkout(request)
    except Exception as error:
        async with ctx.transaction() as tx:
            reason = error.message if isinstance(error, GatewayError) else f"{type(error).__name__}: {error}"
            if await repository.move_status(
                tx, topup.id, allowed=(PENDING,), status=FAILED, failure_reason=f"checkout not opened: {reason}"
            ):
                # No checkout exists that could still be paid with it.
                await coupons.release(tx, topup.id)
        if isinstance(error, GatewayError) and error.details is not None:
            error.details["topup"] = topup.id
        raise
    async with ctx.transaction() as tx:
        await repository.update_topup(
            tx, topup.id, gateway_reference=checkout.gateway_reference, checkout_url=checkout.checkout_url,
            checkout_token=checkout.token, publishable_key=checkout.publishable_key, expires_at=checkout.expires_at,
        )
        return await get_topup(tx, topup.id)


async def price_order(
    tx: Tx, settings: Settings, gateway: PaymentGateway, *, package_id: str | None, amount: int | None,
    currency: str | None, coupon: str | None = None, customer_id: str | None = None,
) -> tuple[Quote, str]:
    """What a top-up would cost and credit, and its description, checked as the gateway would; writes nothing.
    The portal's buy page previews with this, so no price rule is repeated in a browser."""
    terms: CreditTerms | None = None
    if package_id is not None:
        package, terms = await terms_of(tx, package_id)
        amount, currency, param, description = package.price, package.currency, "package", package.name
    elif amount is None or currency is None:
        raise InvalidRequest("give a package, or an amount and its currency", param="package")
    else:
        check_price_currency(currency, param="currency")
        param, description = "amount", "Credit top-up"
    to_minor(amount, currency, param=param)
    gateway.check_amount(amount, currency)
    rule, step = settings.topup_rules.get(currency), charge_step(gateway, currency)
    priced = quote(rule, currency=currency, amount=amount, step=step, terms=terms, param=param)
    if priced.credits <= 0:
        raise InvalidRequest("this amount buys no credits at the configured rate", param=param)
    if coupon is not None and customer_id is not None:
        effect = await _coupon_effect(tx, coupon, customer_id, priced, step)
        priced = quote(rule, currency=currency, amount=amount, step=step, terms=terms, param=param,
                       discount=effect.discount)
        coupons.check_total(priced.total, currency, step)
    gateway.check_amount(priced.total, currency)
    return priced, description


async def _coupon_effect(tx: Tx, coupon: str, customer_id: str, priced: Quote, step: int) -> Effect:
    return await coupons.effect_on_topup(
        tx, coupon, customer_id=customer_id, currency=priced.currency, amount=priced.amount,
        credit_unit=priced.credit_unit, credits=priced.credits, step=step,
    )


async def open_order(
    tx: Tx,
    ctx: Context,
    gateway: PaymentGateway,
    *,
    owner: Customer,
    package_id: str | None,
    amount: int | None,
    currency: str | None,
    return_url: str | None = None,
    save_payment_method: bool = False,
    payment_method_id: str | None = None,
    charge_key: str | None = None,
    coupon: str | None = None,
) -> Topup:
    """Price the order by the currency's rules (limits, tax, bonus tiers), check everything the gateway would
    refuse, and insert it as pending: the first step of a checkout and of an off-session charge alike."""
    priced, description = await price_order(
        tx, ctx.settings, gateway, package_id=package_id, amount=amount, currency=currency, coupon=coupon,
        customer_id=owner.id,
    )
    amount, currency = priced.amount, priced.currency
    effect = None
    if coupon is not None:
        # Priced with its discount above; what to reserve is the same effect again.
        effect = await _coupon_effect(tx, coupon, owner.id, priced, charge_step(gateway, currency))
    # The wallet must exist now: a payment that could not be credited would have to be refunded by hand.
    await resolve_wallet(tx, owner.id, priced.credit_unit)
    tax = priced.tax_rule
    topup_id, expires_at = new_id("top"), tx.now + timedelta(seconds=ctx.settings.topup_expires_in)
    await repository.insert_topup(
        tx, id=topup_id, customer_id=owner.id, package_id=package_id, gateway=gateway.name, status=PENDING,
        currency=currency, amount=amount, subtotal=priced.subtotal, tax=priced.tax, total=priced.total,
        tax_name=tax.name if tax else None, tax_rate=format(tax.rate.normalize(), "f") if tax else None,
        tax_inclusive=tax.inclusive if tax else None, credit_unit=priced.credit_unit, credits=priced.credits,
        bonus_credits=priced.bonus_credits, description=description, return_url=return_url, expires_at=expires_at,
        save_payment_method=save_payment_method, payment_method_id=payment_method_id, charge_key=charge_key,
    )
    if effect is not None:
        await coupons.reserve(tx, effect, customer_id=owner.id, topup_id=topup_id, currency=currency)
    return await get_topup(tx, topup_id)


async def verify_checkout(
    ctx: Context, topup_id: str, *, order_id: str, payment_id: str, signature: str
) -> Topup:
    """Razorpay's checkout.js result: the signature is checked against the order stored here, the payment is
    confirmed through Razorpay's API, then applied exactly as a webhook would be."""
    async with ctx.transaction() as tx:
        topup = await get_topup(tx, topup_id)
    if topup.gateway != RAZORPAY:
        raise InvalidRequest(f"top-up '{topup_id}' is paid through {topup.gateway}, not razorpay", param="id")
    if topup.gateway_reference is None or order_id != topup.gateway_reference:
        raise InvalidRequest("razorpay_order_id is not this top-up's order", param="razorpay_order_id")
    gateway = ctx.gateways.get(RAZORPAY)
    gateway.verify_checkout_signature(topup.gateway_reference, payment_id, signature)
    status = await gateway.fetch_status(topup.gateway_reference)
    async with ctx.transaction() as tx:
        locked = await repository.load_topup(tx, topup_id, for_update=True)
        assert locked is not None
        await apply_status(tx, locked, status, issuer=ctx.issuer, source=f"verify:{payment_id}")
        return await get_topup(tx, topup_id)
