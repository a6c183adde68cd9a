"""A local Stripe: the endpoints creditflow calls, form-encoded like the real API, and events signed
`Stripe-Signature: t=...,v1=...` with the endpoint secret.

Helpers act as the customer and Stripe: pay() completes a session and returns the two events one
payment produces (checkout.session.completed and payment_intent.succeeded); pay_async()/settle_async()
for delayed methods; expire_session(); dispute(). API refunds put charge.refunded in the outbox.
Every payment is made with a new card (`payment_methods`, a Visa ending 4242); a session that saves it
attaches it to its customer (`saved_methods`). Off-session charges of a saved card succeed, or are declined
(`declining`), or wait for the customer (`requiring_action`).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.payments.fakes.live_server import FakeGateway, Notification

SECRET_KEY = "sk_test_creditflow"
WEBHOOK_SECRET = "whsec_test_creditflow"
_MINIMUMS = {"usd": 50, "eur": 50, "gbp": 30}


def decode_form(text: str) -> dict[str, Any]:
    """Stripe's form encoding (`a[b][0][c]=v`) back to nested dicts and lists of strings."""
    root: dict[str, Any] = {}
    for key, value in parse_qsl(text, keep_blank_values=True):
        head = re.match(r"^[^\[]+", key)
        parts = [head.group(0) if head else key, *re.findall(r"\[([^\]]*)\]", key)]
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return _listify(root)


def _listify(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    if node and all(key.isdigit() for key in node):
        return [_listify(node[key]) for key in sorted(node, key=int)]
    return {key: _listify(value) for key, value in node.items()}


def _error(status: int, message: str, *, kind: str = "invalid_request_error", **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message, **extra}}, status_code=status)


class FakeStripe(FakeGateway):
    def __init__(self, *, webhook_secret: str = WEBHOOK_SECRET, **kwargs: Any) -> None:
        self.webhook_secret = webhook_secret
        self.sessions: dict[str, dict[str, Any]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.charges: dict[str, dict[str, Any]] = {}
        self.payment_methods: dict[str, dict[str, Any]] = {}
        self.saved_methods: dict[str, set[str]] = {}
        self.declining: dict[str, str] = {}
        self.requiring_action: set[str] = set()
        self._intent_data: dict[str, dict[str, Any]] = {}
        self._idempotent: dict[str, tuple[str, int, bytes]] = {}
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/v1/checkout/sessions", self._create_session, methods=["POST"]),
            Route("/v1/checkout/sessions/{id}", self._get_session, methods=["GET"]),
            Route("/v1/checkout/sessions/{id}/expire", self._expire_session, methods=["POST"]),
            Route("/v1/payment_intents", self._create_intent, methods=["POST"]),
            Route("/v1/payment_intents/{id}", self._get_intent, methods=["GET"]),
            Route("/v1/payment_intents/{id}/cancel", self._cancel_intent, methods=["POST"]),
            Route("/v1/payment_methods/{id}", self._get_payment_method, methods=["GET"]),
            Route("/v1/payment_methods/{id}/detach", self._detach_payment_method, methods=["POST"]),
            Route("/v1/refunds", self._create_refund, methods=["POST"]),
        ]

    # --- API -----------------------------------------------------------------------------------------

    async def _create_session(self, request: Request) -> Response:
        return await self._idempotently(request, self._new_session)

    def _new_session(self, params: dict[str, Any]) -> Response:
        if params.get("mode") != "payment":
            return _error(400, "mode must be payment", param="mode")
        item = (params.get("line_items") or [{}])[0]
        price = item.get("price_data") or {}
        currency, unit_amount = price.get("currency", ""), int(price.get("unit_amount") or 0)
        if unit_amount < _MINIMUMS.get(currency, 1):
            return _error(400, "The Checkout Session's total amount due must add up to at least $0.50 usd",
                          code="amount_too_small")
        if currency == "isk" and unit_amount % 100:
            return _error(400, "Currency ISK has become effectively zero-decimal", code="invalid_charge_amount")
        expires_at = int(params.get("expires_at") or self.now() + 86400)
        if not self.now() + 1800 - 5 <= expires_at <= self.now() + 86400 + 5:
            return _error(400, "expires_at must be between 30 minutes and 24 hours from now", param="expires_at")
        session_id = f"cs_test_{secrets.token_hex(12)}"
        session = {
            "id": session_id, "object": "checkout.session", "mode": "payment", "status": "open",
            "payment_status": "unpaid", "amount_total": unit_amount * int(item.get("quantity") or 1),
            "currency": currency, "client_reference_id": params.get("client_reference_id"),
            "metadata": params.get("metadata") or {}, "url": f"{self.url}/c/pay/{session_id}",
            "expires_at": expires_at, "payment_intent": None, "customer": params.get("customer"),
            "customer_email": params.get("customer_email"), "success_url": params.get("success_url"),
        }
        with self.lock:
            self.sessions[session_id] = session
            self._intent_data[session_id] = params.get("payment_intent_data") or {}
            if params.get("customer_creation") == "always":
                self._intent_data[session_id]["_new_customer"] = True
        return JSONResponse(session)

    async def _get_session(self, request: Request) -> Response:
        session = self.sessions.get(request.path_params["id"])
        if session is None:
            return _error(404, f"No such checkout.session: '{request.path_params['id']}'", code="resource_missing")
        expand = decode_form(request.url.query).get("expand") or []
        view = copy.deepcopy(session)
        if "payment_intent" in expand and view["payment_intent"]:
            view["payment_intent"] = copy.deepcopy(self.intents[view["payment_intent"]])
            if "payment_intent.latest_charge" in expand and view["payment_intent"]["latest_charge"]:
                view["payment_intent"]["latest_charge"] = copy.deepcopy(
                    self.charges[view["payment_intent"]["latest_charge"]]
                )
            if "payment_intent.payment_method" in expand:
                self._expand_method(view["payment_intent"])
        return JSONResponse(view)

    async def _expire_session(self, request: Request) -> Response:
        session = self.sessions.get(request.path_params["id"])
        if session is None:
            return _error(404, "No such checkout.session", code="resource_missing")
        if session["status"] != "open":
            return _error(400, "Only Checkout Sessions with a status in ['open'] can be expired")
        session["status"] = "expired"
        return JSONResponse(session)

    async def _create_intent(self, request: Request) -> Response:
        return await self._idempotently(request, self._new_off_session_intent)

    def _new_off_session_intent(self, params: dict[str, Any]) -> Response:
        customer, method = params.get("customer"), params.get("payment_method")
        if method not in self.saved_methods.get(customer or "", set()):
            return _error(400, f"No such PaymentMethod: '{method}'", code="resource_missing")
        amount, currency = int(params["amount"]), params["currency"]
        if method in self.declining:
            intent = self._intent(amount, currency, params.get("metadata") or {}, status="requires_payment_method")
            code = self.declining[method]
            return _error(402, "Your card was declined.", kind="card_error", code=code,
                          decline_code=code if code != "authentication_required" else None, payment_intent=intent)
        if method in self.requiring_action:
            intent = self._intent(amount, currency, params.get("metadata") or {}, status="requires_action",
                                  customer=customer, method=method)
            return JSONResponse(intent)
        intent = self._intent(amount, currency, params.get("metadata") or {}, customer=customer, method=method)
        self.emit(self.event("payment_intent.succeeded", intent))
        return JSONResponse(intent)

    async def _get_intent(self, request: Request) -> Response:
        intent = self.intents.get(request.path_params["id"])
        if intent is None:
            return _error(404, "No such payment_intent", code="resource_missing")
        view = copy.deepcopy(intent)
        if "payment_method" in (decode_form(request.url.query).get("expand") or []):
            self._expand_method(view)
        return JSONResponse(view)

    async def _cancel_intent(self, request: Request) -> Response:
        def cancel(_: dict[str, Any]) -> Response:
            intent = self.intents.get(request.path_params["id"])
            if intent is None:
                return _error(404, "No such payment_intent", code="resource_missing")
            if intent["status"] in ("succeeded", "canceled"):
                message = f"You cannot cancel this PaymentIntent because it has a status of {intent['status']}."
                return _error(400, message, code="payment_intent_unexpected_state")
            intent["status"] = "canceled"
            return JSONResponse(intent)

        return await self._idempotently(request, cancel)

    async def _get_payment_method(self, request: Request) -> Response:
        method = self.payment_methods.get(request.path_params["id"])
        if method is None:
            return _error(404, f"No such PaymentMethod: '{request.path_params['id']}'", code="resource_missing")
        return JSONResponse(method)

    async def _detach_payment_method(self, request: Request) -> Response:
        def detach(_: dict[str, Any]) -> Response:
            method = self.payment_methods.get(request.path_params["id"])
            if method is None:
                return _error(404, f"No such PaymentMethod: '{request.path_params['id']}'", code="resource_missing")
            if method["customer"] is None:
                return _error(400, "The payment method you provided is not attached to a customer so detachment is "
                                   "impossible.")
            self.saved_methods.get(method["customer"], set()).discard(method["id"])
            method["customer"] = None
            return JSONResponse(method)

        return await self._idempotently(request, detach)

    async def _create_refund(self, request: Request) -> Response:
        return await self._idempotently(request, self._new_refund)

    def _new_refund(self, params: dict[str, Any]) -> Response:
        intent = self.intents.get(params.get("payment_intent", ""))
        if intent is None or intent["status"] != "succeeded":
            return _error(400, "This PaymentIntent has no successful charge to refund", code="charge_not_refundable")
        charge = self.charges[intent["latest_charge"]]
        left = charge["amount"] - charge["amount_refunded"]
        amount = int(params.get("amount") or left)
        if amount > left:
            return _error(400, f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})",
                          code="amount_too_large")
        charge["amount_refunded"] += amount
        charge["refunded"] = charge["amount_refunded"] == charge["amount"]
        self.emit(self.event("charge.refunded", charge))
        return JSONResponse({
            "id": f"re_{secrets.token_hex(8)}", "object": "refund", "amount": amount, "status": "succeeded",
            "payment_intent": intent["id"], "charge": charge["id"], "metadata": params.get("metadata") or {},
        })

    async def _idempotently(self, request: Request, create: Any) -> Response:
        if request.headers.get("authorization") != f"Bearer {SECRET_KEY}":
            return _error(401, "Invalid API Key provided")
        text = (await request.body()).decode()
        key = request.headers.get("idempotency-key")
        with self.lock:
            if key and key in self._idempotent:
                seen, status, body = self._idempotent[key]
                if seen != text:
                    return _error(400, "Keys for idempotent requests can only be used with the same parameters",
                                  kind="idempotency_error")
                return Response(body, status, media_type="application/json", headers={"Idempotent-Replayed": "true"})
            response = create(decode_form(text))
            if key:
                self._idempotent[key] = (text, response.status_code, bytes(response.body))
            return response

    # --- the customer and Stripe -----------------------------------------------------------------------

    def pay(self, session_id: str) -> list[Notification]:
        """The customer pays by card: checkout.session.completed, then payment_intent.succeeded."""
        session = self.sessions[session_id]
        intent = self._settle_session(session, "succeeded")
        session["payment_status"] = "paid"
        return [self.emit(self.event("checkout.session.completed", session)),
                self.emit(self.event("payment_intent.succeeded", intent))]

    def pay_async(self, session_id: str) -> list[Notification]:
        """A delayed method (bank debit): the session completes unpaid; settle_async() decides later."""
        session = self.sessions[session_id]
        self._settle_session(session, "processing")
        return [self.emit(self.event("checkout.session.completed", session))]

    def settle_async(self, session_id: str, *, succeed: bool) -> list[Notification]:
        session = self.sessions[session_id]
        intent = self.intents[session["payment_intent"]]
        if succeed:
            intent.update(status="succeeded", amount_received=intent["amount"])
            session["payment_status"] = "paid"
            return [self.emit(self.event("checkout.session.async_payment_succeeded", session)),
                    self.emit(self.event("payment_intent.succeeded", intent))]
        intent.update(status="requires_payment_method", last_payment_error={"code": "payment_method_failed"})
        return [self.emit(self.event("checkout.session.async_payment_failed", session)),
                self.emit(self.event("payment_intent.payment_failed", intent))]

    def expire_session(self, session_id: str) -> Notification:
        self.sessions[session_id]["status"] = "expired"
        return self.emit(self.event("checkout.session.expired", self.sessions[session_id]))

    def dispute(self, intent_id: str) -> Notification:
        intent = self.intents[intent_id]
        charge = self.charges[intent["latest_charge"]]
        charge["disputed"] = True
        dispute = {
            "id": f"dp_{secrets.token_hex(8)}", "object": "dispute", "amount": charge["amount"],
            "currency": charge["currency"], "charge": charge["id"], "payment_intent": intent_id,
            "reason": "fraudulent", "status": "needs_response",
        }
        return self.emit(self.event("charge.dispute.created", dispute))

    def event(self, event_type: str, obj: dict[str, Any], **signing: Any) -> Notification:
        body = json.dumps({
            "id": f"evt_{secrets.token_hex(12)}", "object": "event", "type": event_type, "api_version": "2025-01-27",
            "created": int(self.now()), "livemode": False, "data": {"object": copy.deepcopy(obj)},
        }).encode()
        return self.signed(body, **signing)

    def signed(self, body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> Notification:
        t = int(self.now()) if timestamp is None else timestamp
        key = (secret or self.webhook_secret).encode()
        signature = hmac.new(key, f"{t}.".encode() + body, hashlib.sha256).hexdigest()
        return Notification(body, {"Content-Type": "application/json", "Stripe-Signature": f"t={t},v1={signature}"})

    def _settle_session(self, session: dict[str, Any], status: str) -> dict[str, Any]:
        data = self._intent_data[session["id"]]
        customer = session["customer"]
        if customer is None and (data.get("_new_customer") or data.get("setup_future_usage")):
            customer = session["customer"] = f"cus_{secrets.token_hex(7)}"
        method = f"pm_{secrets.token_hex(8)}"
        self.payment_methods[method] = {
            "id": method, "object": "payment_method", "type": "card", "customer": None,
            "card": {"brand": "visa", "last4": "4242", "exp_month": 12, "exp_year": 2030},
        }
        intent = self._intent(
            session["amount_total"], session["currency"], data.get("metadata") or {}, status=status,
            customer=customer, method=method, setup_future_usage=data.get("setup_future_usage"),
        )
        session.update(status="complete", payment_intent=intent["id"])
        return intent

    def _expand_method(self, intent: dict[str, Any]) -> None:
        if isinstance(intent.get("payment_method"), str) and intent["payment_method"] in self.payment_methods:
            intent["payment_method"] = copy.deepcopy(self.payment_methods[intent["payment_method"]])

    def _intent(
        self, amount: int, currency: str, metadata: dict[str, str], *, status: str = "succeeded",
        customer: str | None = None, method: str | None = None, setup_future_usage: str | None = None,
    ) -> dict[str, Any]:
        intent_id, charge_id = f"pi_{secrets.token_hex(10)}", f"ch_{secrets.token_hex(10)}"
        intent = {
            "id": intent_id, "object": "payment_intent", "amount": amount, "currency": currency,
            "amount_received": amount if status == "succeeded" else 0, "status": status, "metadata": metadata,
            "customer": customer, "payment_method": method, "setup_future_usage": setup_future_usage,
            "payment_method_types": ["card"], "latest_charge": charge_id, "last_payment_error": None,
        }
        # Stripe copies the PaymentIntent's metadata onto the charge it creates.
        charge = {
            "id": charge_id, "object": "charge", "amount": amount, "amount_refunded": 0, "refunded": False,
            "disputed": False, "currency": currency, "payment_intent": intent_id, "metadata": dict(metadata),
        }
        with self.lock:
            self.intents[intent_id] = intent
            self.charges[charge_id] = charge
            if setup_future_usage == "off_session" and customer and method:
                self.saved_methods.setdefault(customer, set()).add(method)
                self.payment_methods[method]["customer"] = customer
        return intent
