"""A local Razorpay: orders, order payments, payments, refunds (with X-Refund-Idempotency), and
webhooks signed with the webhook secret (X-Razorpay-Signature, X-Razorpay-Event-Id).

Helpers act as the customer and Razorpay: fail_attempt() (payment.failed), capture() (payment.authorized,
payment.captured and order.paid for one payment), authorize_only(), dispute(); checkout_signature()
is what checkout.js hands the browser. API refunds put refund.processed in the outbox.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import string
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.payments.fakes.live_server import FakeGateway, Notification, read_json

KEY_ID = "rzp_test_creditflow"
KEY_SECRET = "rzp_secret_creditflow"
WEBHOOK_SECRET = "rzp_webhook_creditflow"


def _id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(14))


def _bad_request(description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": {"code": "BAD_REQUEST_ERROR", "description": description}}, status_code=status)


class FakeRazorpay(FakeGateway):
    def __init__(self, *, webhook_secret: str = WEBHOOK_SECRET, **kwargs: Any) -> None:
        self.webhook_secret = webhook_secret
        self.orders: dict[str, dict[str, Any]] = {}
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self._refund_keys: dict[str, tuple[Any, dict[str, Any]]] = {}
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/v1/orders", self._create_order, methods=["POST"]),
            Route("/v1/orders/{id}", self._get_order, methods=["GET"]),
            Route("/v1/orders/{id}/payments", self._order_payments, methods=["GET"]),
            Route("/v1/payments/{id}", self._get_payment, methods=["GET"]),
            Route("/v1/payments/{id}/refund", self._refund, methods=["POST"]),
        ]

    # --- API -----------------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{KEY_ID}:{KEY_SECRET}".encode()).decode()
        return request.headers.get("authorization") == expected

    async def _create_order(self, request: Request) -> Response:
        if not self._authorized(request):
            return _bad_request("Authentication failed", 401)
        data = await read_json(request)
        amount = data.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return _bad_request("The amount must be atleast INR 1.00")
        if len(str(data.get("receipt") or "")) > 40:
            return _bad_request("receipt: the length must not be greater than 40")
        if len(data.get("notes") or {}) > 15:
            return _bad_request("notes: the count must not be greater than 15")
        order = {
            "id": _id("order_"), "entity": "order", "amount": amount, "amount_paid": 0, "amount_due": amount,
            "currency": data.get("currency", "INR"), "receipt": data.get("receipt"), "status": "created",
            "attempts": 0, "notes": data.get("notes") or [], "created_at": int(self.now()),
        }
        with self.lock:
            self.orders[order["id"]] = order
        return JSONResponse(order)

    async def _get_order(self, request: Request) -> Response:
        order = self.orders.get(request.path_params["id"])
        if not self._authorized(request) or order is None:
            return _bad_request("The id provided does not exist")
        return JSONResponse(order)

    async def _order_payments(self, request: Request) -> Response:
        if not self._authorized(request) or request.path_params["id"] not in self.orders:
            return _bad_request("The id provided does not exist")
        items = [p for p in self.payments.values() if p["order_id"] == request.path_params["id"]]
        return JSONResponse({"entity": "collection", "count": len(items), "items": items})

    async def _get_payment(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["id"])
        if not self._authorized(request) or payment is None:
            return _bad_request("The id provided does not exist")
        return JSONResponse(payment)

    async def _refund(self, request: Request) -> Response:
        payment = self.payments.get(request.path_params["id"])
        if not self._authorized(request) or payment is None:
            return _bad_request("The id provided does not exist")
        data = await read_json(request)
        key = request.headers.get("x-refund-idempotency")
        with self.lock:
            if key and key in self._refund_keys:
                seen, refund = self._refund_keys[key]
                if seen != data:
                    return _bad_request("Different request with the same idempotency key has already been processed.")
                return JSONResponse(refund)
            if payment["status"] not in ("captured", "refunded"):
                return _bad_request("The payment has not been captured")
            left = payment["amount"] - payment["amount_refunded"]
            amount = data.get("amount", left)
            if amount > left:
                return _bad_request("The refund amount provided is greater than amount captured")
            refund = {
                "id": _id("rfnd_"), "entity": "refund", "amount": amount, "currency": payment["currency"],
                "payment_id": payment["id"], "receipt": data.get("receipt"), "notes": data.get("notes") or [],
                "status": "processed", "speed_processed": "normal", "created_at": int(self.now()),
            }
            payment["amount_refunded"] += amount
            full = payment["amount_refunded"] == payment["amount"]
            payment.update(refund_status="full" if full else "partial", status="refunded" if full else "captured")
            self.refunds[refund["id"]] = refund
            if key:
                self._refund_keys[key] = (data, refund)
        self.emit(self.webhook("refund.processed", refund=refund, payment=payment))
        return JSONResponse(refund)

    # --- the customer and Razorpay ---------------------------------------------------------------------

    def fail_attempt(self, order_id: str, method: str = "card") -> Notification:
        payment = self._payment(order_id, "failed", method)
        payment.update(error_code="BAD_REQUEST_ERROR", error_description="Payment failed", error_reason="card_declined")
        return self.emit(self.webhook("payment.failed", payment=payment))

    def authorize_only(self, order_id: str, method: str = "upi") -> Notification:
        return self.emit(self.webhook("payment.authorized", payment=self._payment(order_id, "authorized", method)))

    def capture(self, order_id: str, method: str = "upi") -> list[Notification]:
        """One successful payment: payment.authorized, payment.captured and order.paid."""
        order = self.orders[order_id]
        payment = self._payment(order_id, "authorized", method)
        authorized = self.webhook("payment.authorized", payment=payment)
        payment.update(status="captured", captured=True)
        order.update(status="paid", amount_paid=order["amount"], amount_due=0)
        captured = self.webhook("payment.captured", payment=payment)
        paid = self.webhook("order.paid", payment=payment, order=order)
        return [self.emit(n) for n in (authorized, captured, paid)]

    def dispute(self, payment_id: str) -> Notification:
        payment = self.payments[payment_id]
        dispute = {"id": _id("disp_"), "entity": "dispute", "payment_id": payment_id, "amount": payment["amount"],
                   "currency": payment["currency"], "reason_code": "chargeback", "status": "open"}
        return self.emit(self.webhook("payment.dispute.created", payment=payment, dispute=dispute))

    def fail_refund(self, refund_id: str) -> Notification:
        """A refund Razorpay accepted fails at the bank: the payment's refunded amount goes back down."""
        with self.lock:
            refund = self.refunds[refund_id]
            payment = self.payments[refund["payment_id"]]
            refund["status"] = "failed"
            payment["amount_refunded"] -= refund["amount"]
            partly = payment["amount_refunded"] > 0
            payment.update(refund_status="partial" if partly else None, status="captured")
        return self.emit(self.webhook("refund.failed", refund=refund, payment=payment))

    def checkout_signature(self, order_id: str, payment_id: str) -> str:
        return hmac.new(KEY_SECRET.encode(), f"{order_id}|{payment_id}".encode(), hashlib.sha256).hexdigest()

    def webhook(self, event: str, *, secret: str | None = None, **entities: dict[str, Any]) -> Notification:
        body = json.dumps({
            "entity": "event", "account_id": "acc_creditflow", "event": event, "contains": sorted(entities),
            "payload": {name: {"entity": dict(entity)} for name, entity in entities.items()},
            "created_at": int(self.now()),
        }).encode()
        return self.signed(body, secret=secret)

    def signed(self, body: bytes, *, secret: str | None = None) -> Notification:
        signature = hmac.new((secret or self.webhook_secret).encode(), body, hashlib.sha256).hexdigest()
        return Notification(body, {
            "Content-Type": "application/json", "X-Razorpay-Signature": signature, "X-Razorpay-Event-Id": _id("evt_"),
        })

    def _payment(self, order_id: str, status: str, method: str) -> dict[str, Any]:
        order = self.orders[order_id]
        payment = {
            "id": _id("pay_"), "entity": "payment", "amount": order["amount"], "currency": order["currency"],
            "status": status, "order_id": order_id, "method": method, "captured": status == "captured",
            "amount_refunded": 0, "refund_status": None, "email": "ayu@example.com", "contact": "+919000000000",
            # Payment notes come from checkout.js's options, not from the order: usually empty (a list, then).
            "notes": [], "error_code": None, "error_description": None, "created_at": int(self.now()),
        }
        with self.lock:
            order["attempts"] += 1
            order["status"] = "attempted" if order["status"] == "created" else order["status"]
            self.payments[payment["id"]] = payment
        return payment
