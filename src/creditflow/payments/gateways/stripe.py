"""Stripe: hosted Checkout Sessions, signed events, refunds, off-session charges of saved cards.

The top-up id travels as client_reference_id, in the session's metadata and in the PaymentIntent's
metadata (Stripe does not copy session metadata to the PaymentIntent), so checkout.session.completed
and payment_intent.succeeded for one payment both name the same top-up and credit it once.

A top-up's gateway_reference is its Checkout Session (cs_...), or for an off-session charge of a saved card
its PaymentIntent (pi_...): status reads and expiry follow whichever it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from creditflow.clock import Clock, SystemClock
from creditflow.payments.gateways import amounts, blocking
from creditflow.payments.gateways.base import (
    Checkout,
    CheckoutRequest,
    ExpireOutcome,
    ExpireResult,
    GatewayEvent,
    PaymentGateway,
    PaymentKind,
    PaymentStatus,
    RefundOutcome,
    RefundRequest,
    RefundResult,
    SavedMethodCharge,
    SavedPaymentMethod,
)
from creditflow.payments.gateways.errors import (
    GatewayError,
    GatewayRefused,
    GatewayUnavailable,
    InvalidSignature,
)
from creditflow.payments.gateways.signing import lower_keys, verify_timestamped

# https://docs.stripe.com/currencies: amounts in these are whole units.
ZERO_DECIMAL = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"}
)
# Three decimals, but Stripe's partners need the last digit to be 0.
THREE_DECIMAL = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})
# Checkout Sessions must expire between 30 minutes and 24 hours after creation; keep a minute clear of both.
_MIN_EXPIRY = timedelta(minutes=31)
_MAX_EXPIRY = timedelta(hours=24) - timedelta(minutes=1)
_GRID = timedelta(minutes=10)
_SESSION_EXPAND = ["payment_intent", "payment_intent.latest_charge", "payment_intent.payment_method"]
_INTENT_PREFIX = "pi_"
# Session metadata marking a checkout that saves its card: the session's events do not say so themselves.
_SAVES_METHOD = "save_payment_method"


def _within_window(expires_at: datetime, now: datetime) -> datetime:
    """The requested expiry, or the nearest Stripe accepts, snapped to a 10-minute grid when moved:
    a retry minutes later then sends the same parameters, which Stripe's idempotency key requires."""
    grid = int(_GRID.total_seconds())
    if expires_at < now + _MIN_EXPIRY:
        return datetime.fromtimestamp(-(-int((now + _MIN_EXPIRY).timestamp()) // grid) * grid, UTC)
    if expires_at > now + _MAX_EXPIRY:
        return datetime.fromtimestamp(int((now + _MAX_EXPIRY).timestamp()) // grid * grid, UTC)
    return expires_at


def stripe_exponent(currency: str) -> tuple[int, int]:
    """(decimals in Stripe's integer amounts, the multiple those amounts must be of)."""
    if currency in ZERO_DECIMAL:
        return 0, 1
    if currency in THREE_DECIMAL:
        return 3, 10
    if currency == "ISK":  # two decimals in the API, but only whole krónur are accepted
        return 2, 100
    return 2, 1


class StripeGateway(PaymentGateway):
    name = "stripe"
    saves_payment_methods = True

    def __init__(
        self,
        *,
        secret_key: str,
        webhook_secrets: Sequence[str],
        api_base: str | None = None,
        clock: Clock | None = None,
        timeout: float = blocking.DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self._webhook_secrets = tuple(webhook_secrets)
        self._clock = clock or SystemClock()
        self._timeout = timeout
        # No SDK retries: callers retry (webhooks are redelivered, jobs run again) under the same keys.
        self._client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.RequestsClient(timeout=timeout),
            max_network_retries=0,
        )

    def to_minor(self, amount: int, currency: str) -> int:
        code = amounts.require_currency(self.name, currency, None)
        exponent, multiple_of = stripe_exponent(code)
        return amounts.to_minor(self.name, amount, code, exponent=exponent, multiple_of=multiple_of)

    def from_minor(self, minor: int, currency: str) -> int:
        return amounts.from_minor(minor, exponent=stripe_exponent(currency.upper())[0])

    async def create_checkout(self, request: CheckoutRequest) -> Checkout:
        unit_amount = self.to_minor(request.amount, request.currency)
        expires_at = _within_window(request.expires_at, self._clock.now())
        tags = {"topup_id": request.topup_id}
        intent_data: dict[str, Any] = {"metadata": tags, "description": request.description}
        params: dict[str, Any] = {
            "mode": "payment",
            "client_reference_id": request.topup_id,
            "metadata": tags,
            "line_items": [{
                "quantity": 1,
                "price_data": {
                    "currency": request.currency.lower(),
                    "unit_amount": unit_amount,
                    "product_data": {"name": request.description},
                },
            }],
            "payment_intent_data": intent_data,
            "expires_at": int(expires_at.timestamp()),
        }
        if request.return_url:
            params["success_url"] = request.return_url
            params["cancel_url"] = request.return_url
        if request.save_payment_method:
            intent_data["setup_future_usage"] = "off_session"
            params["metadata"] = {**tags, _SAVES_METHOD: "true"}
        if request.gateway_customer:
            params["customer"] = request.gateway_customer
        else:
            params["customer_email"] = request.customer_email
            if request.save_payment_method:
                params["customer_creation"] = "always"
        session = await self._call(
            lambda: self._client.v1.checkout.sessions.create(params, {"idempotency_key": request.topup_id})
        )
        return Checkout(
            gateway_reference=session["id"],
            checkout_url=session.get("url"),
            expires_at=datetime.fromtimestamp(session["expires_at"], UTC),
        )

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> list[GatewayEvent]:
        verify_timestamped(
            self.name, body, lower_keys(headers).get("stripe-signature"), self._webhook_secrets, self._clock.now()
        )
        try:
            event = json.loads(body)
            event_type, obj = event["type"], event["data"]["object"]
        except (ValueError, KeyError, TypeError):
            raise InvalidSignature(self.name, "the signed body is not a Stripe event") from None
        status = self._event_status(event_type, obj)
        # A payment that saved a card: the card is read from its PaymentIntent (neither event shows it).
        saves_card = status.kind is PaymentKind.PAID and (
            (status.saved_method is not None and status.saved_method.last4 is None)
            or (status.saved_method is None and (obj.get("metadata") or {}).get(_SAVES_METHOD) == "true")
        )
        return [GatewayEvent(
            gateway=self.name,
            event_key=event["id"],
            event_type=event_type,
            status=status,
            occurred_at=datetime.fromtimestamp(event["created"], UTC) if event.get("created") else None,
            # Refunds and disputes name only the PaymentIntent when the charge carries no metadata.
            needs_confirmation=(status.kind is not PaymentKind.IGNORED and status.topup_id is None) or saves_card,
        )]

    async def confirm(self, event: GatewayEvent) -> GatewayEvent:
        if not event.needs_confirmation or not event.status.payment_id:
            return event
        payment_id = event.status.payment_id
        intent = await self._call(
            lambda: self._client.v1.payment_intents.retrieve(payment_id, {"expand": ["payment_method"]})
        )
        topup_id = (intent.get("metadata") or {}).get("topup_id")
        status = event.status
        if status.topup_id is not None:
            status = replace(status, saved_method=_saved_method(intent))
        elif topup_id:
            status = replace(status, topup_id=topup_id)
        else:
            status = replace(status, kind=PaymentKind.IGNORED, raw_status=f"{status.raw_status}/not-a-topup")
        return replace(event, status=status, needs_confirmation=False)

    async def fetch_status(self, reference: str) -> PaymentStatus:
        if reference.startswith(_INTENT_PREFIX):
            return self._intent_status(await self._call(lambda: self._client.v1.payment_intents.retrieve(reference)))
        session = await self._call(
            lambda: self._client.v1.checkout.sessions.retrieve(reference, {"expand": _SESSION_EXPAND})
        )
        return self._session_status(session)

    async def expire(self, reference: str) -> ExpireResult:
        if reference.startswith(_INTENT_PREFIX):
            return await self._cancel_intent(reference)
        try:
            session = await self._call(lambda: self._client.v1.checkout.sessions.expire(reference))
        except GatewayRefused as refusal:
            # Only open sessions expire: it completed meanwhile, or it already expired.
            status = await self.fetch_status(reference)
            if status.kind is PaymentKind.EXPIRED:
                return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=status)
            if status.kind is PaymentKind.PENDING and status.raw_status.startswith("open"):
                raise
            return ExpireResult(outcome=ExpireOutcome.NOT_EXPIRABLE, status=status, message=refusal.message)
        return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=self._session_status(session))

    async def _cancel_intent(self, reference: str) -> ExpireResult:
        """An off-session charge still waiting (for the customer's bank, or the customer) is canceled."""
        try:
            intent = await self._call(lambda: self._client.v1.payment_intents.cancel(reference))
        except GatewayRefused as refusal:
            # Only unfinished intents cancel: it succeeded meanwhile, or it was canceled already.
            status = await self.fetch_status(reference)
            if status.raw_status == "canceled":
                return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=status)
            if status.kind is PaymentKind.PENDING:
                raise
            return ExpireResult(outcome=ExpireOutcome.NOT_EXPIRABLE, status=status, message=refusal.message)
        return ExpireResult(outcome=ExpireOutcome.EXPIRED, status=self._intent_status(intent))

    async def refund(self, request: RefundRequest) -> RefundResult:
        amount = self.to_minor(request.amount, request.currency)
        payment_id = request.payment_id or (await self.fetch_status(request.gateway_reference)).payment_id
        if not payment_id:
            return RefundResult(outcome=RefundOutcome.REFUSED, message="the checkout session has no payment")
        params: dict[str, Any] = {"payment_intent": payment_id, "amount": amount}
        if request.reason:
            params["metadata"] = {"reason": request.reason}
        try:
            refund = await self._call(
                lambda: self._client.v1.refunds.create(params, {"idempotency_key": request.idempotency_key})
            )
        except GatewayRefused as refusal:
            return RefundResult(outcome=RefundOutcome.REFUSED, message=refusal.message)
        if refund.get("status") in ("failed", "canceled"):
            return RefundResult(outcome=RefundOutcome.REFUSED, refund_id=refund["id"], message=refund.get("status"))
        return RefundResult(outcome=RefundOutcome.REFUNDED, refund_id=refund["id"])

    async def charge_saved_method(self, request: SavedMethodCharge) -> PaymentStatus:
        params = {
            "amount": self.to_minor(request.amount, request.currency),
            "currency": request.currency.lower(),
            "customer": request.saved_method.customer,
            "payment_method": request.saved_method.payment_method,
            "off_session": True,
            "confirm": True,
            "description": request.description,
            "metadata": {"topup_id": request.topup_id},
        }

        def charge() -> dict[str, Any]:
            try:
                return self._client.v1.payment_intents.create(
                    params, {"idempotency_key": request.topup_id}
                ).to_dict()
            except stripe.CardError as decline:
                # A decline (or a bank asking for the customer, who is not there) is an answer, not an error.
                body = decline.json_body if isinstance(decline.json_body, dict) else {}
                error = body.get("error") or {}
                intent = error.get("payment_intent") or {}
                return {
                    "id": intent.get("id"), "status": "declined", "metadata": {"topup_id": request.topup_id},
                    "amount": params["amount"], "currency": params["currency"],
                    "decline": error.get("decline_code") or error.get("code") or "card_declined",
                }

        intent = await blocking.call(self.name, charge, deadline=self._timeout, translate=self._translate)
        if intent["status"] == "declined":
            return PaymentStatus(
                kind=PaymentKind.FAILED, raw_status=intent["decline"], topup_id=request.topup_id,
                payment_id=intent["id"], amount=request.amount, currency=request.currency.upper(),
            )
        return self._intent_status(intent)

    async def detach_payment_method(self, method: SavedPaymentMethod) -> None:
        try:
            await self._call(lambda: self._client.v1.payment_methods.detach(method.payment_method))
        except GatewayRefused:
            # Stripe refuses to detach what is detached already (in its dashboard, or by a call whose answer was
            # lost): that is done, not refused.
            current = await self._call(lambda: self._client.v1.payment_methods.retrieve(method.payment_method))
            if current.get("customer"):
                raise

    # --- mapping -----------------------------------------------------------------------------------

    def _event_status(self, event_type: str, obj: dict[str, Any]) -> PaymentStatus:
        if event_type.startswith("checkout.session."):
            status = self._session_status(obj)
            kind = {
                "checkout.session.completed": status.kind,
                "checkout.session.async_payment_succeeded": PaymentKind.PAID,
                "checkout.session.async_payment_failed": PaymentKind.FAILED,
                "checkout.session.expired": PaymentKind.EXPIRED,
            }.get(event_type, PaymentKind.IGNORED)
            return replace(status, kind=kind)
        if event_type in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            status = self._intent_status(obj)
            # A PaymentIntent creditflow did not create (another integration on the account) is not ours.
            return status if status.topup_id else replace(status, kind=PaymentKind.IGNORED)
        if event_type == "charge.refunded":
            return PaymentStatus(
                kind=PaymentKind.REFUNDED if obj.get("refunded") else PaymentKind.PARTIALLY_REFUNDED,
                raw_status="refunded" if obj.get("refunded") else "partially_refunded",
                topup_id=(obj.get("metadata") or {}).get("topup_id"),
                payment_id=obj.get("payment_intent"),
                **self._money(obj.get("amount"), obj.get("currency")),
                amount_refunded=self.from_minor(obj.get("amount_refunded") or 0, obj.get("currency") or "usd"),
            )
        if event_type == "charge.dispute.created":
            return PaymentStatus(
                kind=PaymentKind.DISPUTED, raw_status=f"dispute/{obj.get('reason') or obj.get('status')}",
                payment_id=obj.get("payment_intent"), **self._money(obj.get("amount"), obj.get("currency")),
            )
        return PaymentStatus(kind=PaymentKind.IGNORED, raw_status=event_type, payment_id=obj.get("id"))

    def _session_status(self, session: dict[str, Any]) -> PaymentStatus:
        intent = session.get("payment_intent")
        intent = intent if isinstance(intent, dict) else None
        state, paid = session.get("status"), session.get("payment_status")
        if state == "expired":
            kind = PaymentKind.EXPIRED
        elif state == "complete" and paid == "paid":
            kind = PaymentKind.PAID
        elif state == "complete" and intent and intent.get("status") in ("requires_payment_method", "canceled"):
            kind = PaymentKind.FAILED  # an asynchronous method (bank debit) failed after checkout
        else:
            kind = PaymentKind.PENDING
        status = PaymentStatus(
            kind=kind,
            raw_status=f"{state}/{paid}",
            topup_id=session.get("client_reference_id") or (session.get("metadata") or {}).get("topup_id"),
            gateway_reference=session.get("id"),
            payment_id=intent["id"] if intent else session.get("payment_intent"),
            **self._money(session.get("amount_total"), session.get("currency")),
            saved_method=_saved_method(intent) if intent else None,
        )
        charge = intent.get("latest_charge") if intent else None
        if kind is PaymentKind.PAID and isinstance(charge, dict):
            refunded = self.from_minor(charge.get("amount_refunded") or 0, status.currency or "USD")
            if charge.get("disputed"):
                status = replace(status, kind=PaymentKind.DISPUTED, raw_status="complete/disputed")
            elif refunded:
                full = charge.get("refunded")
                status = replace(
                    status, amount_refunded=refunded, raw_status="complete/refunded",
                    kind=PaymentKind.REFUNDED if full else PaymentKind.PARTIALLY_REFUNDED,
                )
        return status

    def _intent_status(self, intent: dict[str, Any]) -> PaymentStatus:
        state = intent.get("status")
        if state == "succeeded":
            kind = PaymentKind.PAID
        elif state in ("processing", "requires_capture", "requires_action"):
            kind = PaymentKind.PENDING
        else:
            kind = PaymentKind.FAILED
        error = intent.get("last_payment_error") or {}
        return PaymentStatus(
            kind=kind,
            raw_status=error.get("decline_code") or error.get("code") or state or "unknown",
            topup_id=(intent.get("metadata") or {}).get("topup_id"),
            payment_id=intent.get("id"),
            **self._money(intent.get("amount_received") or intent.get("amount"), intent.get("currency")),
            payment_method=(intent.get("payment_method_types") or [None])[0],
            saved_method=_saved_method(intent),
        )

    def _money(self, minor: int | None, currency: str | None) -> dict[str, Any]:
        if minor is None or not currency:
            return {"amount": None, "currency": currency.upper() if currency else None}
        return {"amount": self.from_minor(minor, currency), "currency": currency.upper()}

    async def _call(self, function: Any) -> Any:
        result = await blocking.call(self.name, function, deadline=self._timeout, translate=self._translate)
        return result.to_dict() if hasattr(result, "to_dict") else result

    def _translate(self, exc: Exception) -> GatewayError | None:
        transient = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)
        if isinstance(exc, transient) or (isinstance(exc, stripe.StripeError) and (exc.http_status or 0) >= 500):
            status = getattr(exc, "http_status", None)
            return GatewayUnavailable(self.name, f"Stripe is unavailable: {exc}", status=status)
        if isinstance(exc, stripe.StripeError):
            return GatewayRefused(
                self.name, f"Stripe refused the request: {exc.user_message or exc}", status=exc.http_status,
                gateway_code=exc.code,
            )
        return blocking.network_error(self.name, exc)


def _saved_method(intent: dict[str, Any]) -> SavedPaymentMethod | None:
    customer, method = intent.get("customer"), intent.get("payment_method")
    if intent.get("setup_future_usage") != "off_session" or not customer or not method:
        return None
    # An expanded payment method shows the card; an id alone does not.
    card = (method.get("card") or {}) if isinstance(method, dict) else {}
    return SavedPaymentMethod(
        customer=customer if isinstance(customer, str) else customer["id"],
        payment_method=method if isinstance(method, str) else method["id"],
        brand=card.get("brand"), last4=card.get("last4"), exp_month=card.get("exp_month"),
        exp_year=card.get("exp_year"),
    )
