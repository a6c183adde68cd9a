"""A local Midtrans: Snap transactions, the Core API status, expire and refund endpoints, and payment
notifications signed sha512(order_id + status_code + gross_amount + server_key).

Helpers act as the customer and Midtrans: choose() (the customer picks a method: pending), settle(),
capture_card() (with a fraud status), deny(), expire_now(), chargeback(). Each returns the notification
Midtrans would send, which tests may deliver in any order. API refunds put a refund notification in
the outbox; refunds of bank transfers (virtual accounts) are refused, as Midtrans does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.payments.fakes.live_server import FakeGateway, Notification, read_json

SERVER_KEY = "SB-Mid-server-creditflow"
CLIENT_KEY = "SB-Mid-client-creditflow"
_ORDER_ID = re.compile(r"^[A-Za-z0-9\-_~.]{1,50}$")
_WIB = timezone(timedelta(hours=7))
_API_REFUNDABLE = {"credit_card", "gopay", "shopeepay", "qris"}
_STATUS_CODES = {"settlement": "200", "capture": "200", "pending": "201", "deny": "202", "expire": "407",
                 "refund": "200", "partial_refund": "200", "chargeback": "200"}


def _status(code: int, message: str) -> JSONResponse:
    return JSONResponse({"status_code": str(code), "status_message": message}, status_code=code)


class FakeMidtrans(FakeGateway):
    def __init__(self, *, server_key: str = SERVER_KEY, **kwargs: Any) -> None:
        self.server_key = server_key
        self.snaps: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, dict[str, Any]] = {}
        self.refund_keys: dict[str, dict[str, Any]] = {}
        super().__init__(**kwargs)

    def routes(self) -> list[Route]:
        return [
            Route("/snap/v1/transactions", self._create_snap, methods=["POST"]),
            Route("/v2/{order_id}/status", self._get_status, methods=["GET"]),
            Route("/v2/{order_id}/expire", self._expire, methods=["POST"]),
            Route("/v2/{order_id}/refund", self._refund, methods=["POST"]),
        ]

    # --- API -----------------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        expected = "Basic " + base64.b64encode(f"{self.server_key}:".encode()).decode()
        return request.headers.get("authorization") == expected

    async def _create_snap(self, request: Request) -> Response:
        if not self._authorized(request):
            return JSONResponse({"error_messages": ["Access denied due to unauthorized transaction"]}, 401)
        body = await read_json(request)
        details = body.get("transaction_details") or {}
        order_id, gross = details.get("order_id", ""), details.get("gross_amount")
        problems = []
        if not _ORDER_ID.match(order_id):
            problems.append("transaction_details.order_id is invalid")
        if not isinstance(gross, int) or gross < 1:
            problems.append("transaction_details.gross_amount is not an integer")
        items = body.get("item_details") or []
        if items and sum(item["price"] * item["quantity"] for item in items) != gross:
            problems.append("transaction_details.gross_amount is not equal to the sum of item_details")
        expiry = body.get("expiry")
        if expiry and not re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}$", expiry.get("start_time", "")):
            problems.append("expiry.start_time format is invalid")
        if problems:
            return JSONResponse({"error_messages": problems}, 400)
        if order_id in self.transactions and self.transactions[order_id]["transaction_status"] != "pending":
            return JSONResponse({"error_messages": ["transaction_details.order_id has already been taken"]}, 406)
        token = str(uuid.uuid4())
        with self.lock:
            self.snaps[order_id] = {"token": token, "gross": gross, "body": body}
        return JSONResponse({"token": token, "redirect_url": f"{self.url}/snap/v4/redirection/{token}"}, 201)

    async def _get_status(self, request: Request) -> Response:
        if not self._authorized(request):
            return _status(401, "Unknown Merchant server_key/id")
        transaction = self.transactions.get(request.path_params["order_id"])
        if transaction is None:
            return _status(404, "Transaction doesn't exist.")
        return JSONResponse({**self._public(transaction), "status_message": "Success, transaction is found"})

    async def _expire(self, request: Request) -> Response:
        transaction = self.transactions.get(request.path_params["order_id"])
        if not self._authorized(request) or transaction is None:
            return _status(404, "Transaction doesn't exist.")
        if transaction["transaction_status"] != "pending":
            return _status(412, "Merchant cannot modify the status of the transaction")
        self._move(transaction, "expire")
        return JSONResponse({**self._public(transaction), "status_message": "Success, transaction is expired"})

    async def _refund(self, request: Request) -> Response:
        transaction = self.transactions.get(request.path_params["order_id"])
        if not self._authorized(request) or transaction is None:
            return _status(404, "Transaction doesn't exist.")
        data = await read_json(request)
        key = data.get("refund_key") or str(uuid.uuid4())
        with self.lock:
            if key in self.refund_keys:
                return JSONResponse(self.refund_keys[key])
            if transaction["transaction_status"] not in ("settlement", "partial_refund"):
                return _status(412, "Transaction status cannot be updated.")
            if transaction["payment_type"] not in _API_REFUNDABLE:
                return _status(412, "Payment type does not support refund.")
            left = transaction["gross"] - transaction["refunded"]
            amount = data.get("amount", left)
            if amount > left:
                return _status(412, "Refund amount exceeds the remaining amount.")
            transaction["refunded"] += amount
            self._move(transaction, "refund" if transaction["refunded"] == transaction["gross"] else "partial_refund")
            answer = {**self._public(transaction), "status_message": "Success, refund request is approved",
                      "refund_chargeback_id": secrets.randbelow(10**6), "refund_key": key,
                      "refund_amount": f"{amount}.00"}
            self.refund_keys[key] = answer
        self.emit(self.notification(transaction["order_id"]))
        return JSONResponse(answer)

    # --- the customer and Midtrans ---------------------------------------------------------------------

    def choose(self, order_id: str, payment_type: str = "bank_transfer") -> Notification:
        """The customer picks a method in Snap: the transaction exists, pending."""
        snap = self.snaps[order_id]
        with self.lock:
            self.transactions[order_id] = {
                "order_id": order_id, "transaction_id": str(uuid.uuid4()), "gross": snap["gross"], "refunded": 0,
                "payment_type": payment_type, "transaction_status": "pending", "fraud_status": None,
                "transaction_time": self._wib(), "settlement_time": None,
            }
        return self.emit(self.notification(order_id))

    def settle(self, order_id: str) -> Notification:
        self._move(self.transactions[order_id], "settlement")
        self.transactions[order_id]["settlement_time"] = self._wib()
        return self.emit(self.notification(order_id))

    def capture_card(self, order_id: str, fraud_status: str = "accept") -> Notification:
        if order_id not in self.transactions:
            self.choose(order_id, "credit_card")
        transaction = self.transactions[order_id]
        transaction.update(payment_type="credit_card", fraud_status=fraud_status)
        self._move(transaction, "capture")
        return self.emit(self.notification(order_id))

    def deny(self, order_id: str) -> Notification:
        self._move(self.transactions[order_id], "deny")
        return self.emit(self.notification(order_id))

    def expire_now(self, order_id: str) -> Notification:
        self._move(self.transactions[order_id], "expire")
        return self.emit(self.notification(order_id))

    def chargeback(self, order_id: str) -> Notification:
        self._move(self.transactions[order_id], "chargeback")
        return self.emit(self.notification(order_id))

    def notification(self, order_id: str, *, server_key: str | None = None) -> Notification:
        body = {**self._public(self.transactions[order_id]), "status_message": "midtrans payment notification"}
        return self.signed(body, server_key=server_key)

    def signed(self, body: dict[str, Any], *, server_key: str | None = None) -> Notification:
        signed = body["order_id"] + body["status_code"] + body["gross_amount"] + (server_key or self.server_key)
        body = {**body, "signature_key": hashlib.sha512(signed.encode()).hexdigest()}
        return Notification(json.dumps(body).encode(), {"Content-Type": "application/json"})

    def _move(self, transaction: dict[str, Any], status: str) -> None:
        with self.lock:
            transaction["transaction_status"] = status

    def _public(self, transaction: dict[str, Any]) -> dict[str, Any]:
        state = transaction["transaction_status"]
        body = {
            "transaction_time": transaction["transaction_time"], "transaction_status": state,
            "transaction_id": transaction["transaction_id"], "status_code": _STATUS_CODES.get(state, "200"),
            "payment_type": transaction["payment_type"], "order_id": transaction["order_id"],
            "merchant_id": "G000000000", "gross_amount": f"{transaction['gross']}.00", "currency": "IDR",
        }
        if transaction["fraud_status"]:
            body["fraud_status"] = transaction["fraud_status"]
        if transaction["settlement_time"]:
            body["settlement_time"] = transaction["settlement_time"]
        if transaction["refunded"]:
            body["refund_amount"] = f"{transaction['refunded']}.00"
        if transaction["payment_type"] == "bank_transfer":
            body["va_numbers"] = [{"bank": "bca", "va_number": "12345678901"}]
        return body

    def _wib(self) -> str:
        return datetime.fromtimestamp(self.now(), UTC).astimezone(_WIB).strftime("%Y-%m-%d %H:%M:%S")
