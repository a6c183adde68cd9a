"""Package, top-up, refund and webhook request and response bodies. Amounts are exact decimal strings."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field, model_validator

from creditflow import money
from creditflow.http.schemas import StrictModel
from creditflow.money import Amount, PositiveAmount, Unit
from creditflow.topups.models import Package, Refund, Topup

Gateway = Literal["sandbox", "stripe", "razorpay", "midtrans"]
TopupStatus = Literal[
    "pending", "paid", "failed", "expired", "partially_refunded", "refunded", "refund_manual", "disputed"
]


class PackagePrice(StrictModel):
    amount: PositiveAmount
    currency: Unit = Field(description="The currency the customer pays in (IDR, INR, USD, ...).")


class PackageCreate(StrictModel):
    name: str = Field(min_length=1, max_length=255)
    price: PackagePrice
    credits: PositiveAmount
    bonus_credits: Amount | None = Field(
        default=None, description="The package's own bonus; when left out, the currency's bonus tiers apply."
    )
    currency_of_credits: Unit | None = Field(
        default=None, description="Unit of the credits (e.g. CREDITS); default: the price's currency."
    )


class PriceOut(BaseModel):
    amount: str
    currency: str


class PackageOut(BaseModel):
    object: Literal["package"] = "package"
    id: str
    name: str
    price: PriceOut
    credits: str
    bonus_credits: str | None
    currency_of_credits: str
    status: Literal["active", "archived"]
    created_at: datetime
    archived_at: datetime | None

    @classmethod
    def of(cls, package: Package) -> PackageOut:
        unit = package.credit_unit
        return cls(
            id=package.id, name=package.name,
            price=PriceOut(amount=money.format(package.price, package.currency), currency=package.currency),
            credits=money.format(package.credits, unit),
            bonus_credits=None if package.bonus_credits is None else money.format(package.bonus_credits, unit),
            currency_of_credits=unit, status=package.status, created_at=package.created_at,
            archived_at=package.archived_at,
        )


class TopupOrder(StrictModel):
    """What a top-up buys: a package, or an amount of money in a currency (priced by that currency's rules)."""

    package: str | None = Field(default=None, description="A package id; or give amount and currency.")
    amount: PositiveAmount | None = Field(
        default=None, description="Before an exclusive tax, including an inclusive one."
    )
    currency: Unit | None = None

    @model_validator(mode="after")
    def _package_or_amount(self) -> TopupOrder:
        if self.package is not None and (self.amount is not None or self.currency is not None):
            raise ValueError("give either a package or an amount and currency, not both")
        if self.package is None and (self.amount is None or self.currency is None):
            raise ValueError("give a package, or an amount and its currency")
        return self


class TopupCreate(TopupOrder):
    customer: str = Field(description="Customer id or external_id.")
    gateway: Gateway
    coupon: str | None = Field(
        default=None, max_length=64,
        description="A coupon code: money off before tax (the credits stay whole), or bonus credits; reserved at "
                    "checkout, redeemed when paid, freed if the gateway reports the checkout failed or expired.",
    )
    return_url: str | None = Field(
        default=None, max_length=2000, pattern=r"^https?://", description="Where the checkout sends the customer back."
    )
    save_payment_method: bool = Field(
        default=False,
        description="Stripe only: keep the card for later off-session charges (GET /v1/customers/{customer}/"
                    "payment_methods lists it once the top-up is paid).",
    )


class TaxOut(BaseModel):
    name: str
    rate_percent: str = Field(description="Percent: \"11\" is 11%.")
    inclusive: bool


class TopupGrants(BaseModel):
    paid: str
    bonus: str | None


class TopupOut(BaseModel):
    object: Literal["topup"] = "topup"
    id: str
    customer: str
    status: TopupStatus
    gateway: str
    package: str | None
    description: str
    currency: str
    amount: str = Field(description="As asked: the package price or the amount.")
    subtotal: str = Field(description="Net of tax: what the credits were bought for.")
    tax: str
    total: str = Field(description="What the customer pays: subtotal + tax.")
    tax_details: TaxOut | None
    credits: str
    bonus_credits: str
    currency_of_credits: str
    checkout_url: str | None = Field(description="Where to send the customer; null for Razorpay (checkout.js).")
    token: str | None = Field(description="Midtrans Snap token; the sandbox checkout token.")
    gateway_reference: str | None = Field(description="Stripe session, Razorpay order or Midtrans order id.")
    publishable_key: str | None = Field(description="The public key the browser needs (Razorpay, Midtrans).")
    return_url: str | None
    expires_at: datetime
    payment_id: str | None
    payment_method: str | None
    amount_refunded: str
    disputed_debt: str = Field(description="Credits spent before a dispute took the payment back.")
    failure_reason: str | None
    save_payment_method: bool = Field(description="The checkout was asked to keep the card (Stripe).")
    saved_payment_method: str | None = Field(
        description="The saved payment method this top-up charged off-session, or the one its checkout saved."
    )
    needs_review: bool = Field(description="A gateway reported something not acted on; see review_reason.")
    review_reason: str | None
    invoice: str | None
    grants: TopupGrants | None
    paid_at: datetime | None
    created_at: datetime

    @classmethod
    def of(cls, topup: Topup) -> TopupOut:
        currency, unit = topup.currency, topup.credit_unit
        tax = None
        if topup.tax_name is not None and topup.tax_rate is not None:
            tax = TaxOut(name=topup.tax_name, rate_percent=topup.tax_rate, inclusive=bool(topup.tax_inclusive))
        credit = topup.credit
        return cls(
            id=topup.id, customer=topup.customer_id, status=topup.status, gateway=topup.gateway,
            package=topup.package_id, description=topup.description, currency=currency,
            amount=money.format(topup.amount, currency), subtotal=money.format(topup.subtotal, currency),
            tax=money.format(topup.tax, currency), total=money.format(topup.total, currency), tax_details=tax,
            credits=money.format(topup.credits, unit), bonus_credits=money.format(topup.bonus_credits, unit),
            currency_of_credits=unit, checkout_url=topup.checkout_url, token=topup.checkout_token,
            gateway_reference=topup.gateway_reference, publishable_key=topup.publishable_key,
            return_url=topup.return_url, expires_at=topup.expires_at, payment_id=topup.payment_id,
            payment_method=topup.payment_method, amount_refunded=money.format(topup.amount_refunded, currency),
            disputed_debt=money.format(topup.disputed_debt, unit), failure_reason=topup.failure_reason,
            save_payment_method=topup.save_payment_method, saved_payment_method=topup.payment_method_id,
            needs_review=topup.review_reason is not None, review_reason=topup.review_reason,
            invoice=credit.invoice_id if credit else None,
            grants=TopupGrants(paid=credit.paid_grant_id, bonus=credit.bonus_grant_id) if credit else None,
            paid_at=topup.paid_at, created_at=topup.created_at,
        )


class TopupVerify(StrictModel):
    """What Razorpay's checkout.js hands the browser after a payment."""

    razorpay_payment_id: str = Field(min_length=1, max_length=255)
    razorpay_order_id: str = Field(min_length=1, max_length=255)
    razorpay_signature: str = Field(min_length=1, max_length=255)


class TopupRefundCreate(StrictModel):
    amount: PositiveAmount | None = Field(
        default=None, description="Money to give back, in the top-up's currency; default: all that is refundable."
    )
    reason: str | None = Field(default=None, max_length=250)


class TopupRefundOut(BaseModel):
    object: Literal["topup_refund"] = "topup_refund"
    id: str
    topup: str
    amount: str
    currency: str
    credits: str = Field(description="Paid credits taken back.")
    bonus_credits: str = Field(description="Bonus credits taken back with them.")
    currency_of_credits: str
    status: Literal["pending", "refunded", "refused", "manual"]
    gateway_refund_id: str | None
    message: str | None
    topup_status: str
    created_at: datetime

    @classmethod
    def of(cls, refund: Refund, topup: Topup) -> TopupRefundOut:
        unit = topup.credit_unit
        return cls(
            id=refund.id, topup=topup.id, amount=money.format(refund.amount, topup.currency), currency=topup.currency,
            credits=money.format(refund.credits, unit), bonus_credits=money.format(refund.bonus_credits, unit),
            currency_of_credits=unit, status=refund.status, gateway_refund_id=refund.gateway_refund_id,
            message=refund.message, topup_status=topup.status, created_at=refund.created_at,
        )


class WebhookEventOutcome(BaseModel):
    event_type: str
    outcome: str


class WebhookAck(BaseModel):
    received: Literal[True] = True
    events: list[WebhookEventOutcome]
