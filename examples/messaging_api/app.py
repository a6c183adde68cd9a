"""A messaging API that sells messages for credits: 100 CREDITS per message, charged through CreditGuard.

Run it beside a creditflow server (see README.md):
    CREDITFLOW_API_KEY=cf_sk_... uvicorn --factory examples.messaging_api.app:app_from_env
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sqlite3
import uuid
from decimal import Decimal

from fastapi import FastAPI, Header, HTTPException
from pydantic import BaseModel, Field

from creditflow_client import AsyncCreditflow
from creditflow_client.fastapi import Charge, CreditGuard

MESSAGE_PRICE = Decimal(100)
WELCOME_CREDITS = Decimal(250)


class Users:
    """The ~30-line user table: email and a scrypt password hash, mapped to a creditflow customer."""

    def __init__(self, path: str) -> None:
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS users (email TEXT PRIMARY KEY, salt BLOB, hash BLOB, customer TEXT)"
        )

    @staticmethod
    def _hash(password: str, salt: bytes) -> bytes:
        return hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1)

    def add(self, email: str, password: str, customer: str) -> bool:
        salt = secrets.token_bytes(16)
        try:
            with self.db:
                self.db.execute("INSERT INTO users VALUES (?, ?, ?, ?)",
                                (email, salt, self._hash(password, salt), customer))
        except sqlite3.IntegrityError:
            return False
        return True

    def check(self, email: str, password: str) -> str | None:
        """The user's creditflow customer when the password is right."""
        row = self.db.execute("SELECT salt, hash, customer FROM users WHERE email = ?", (email,)).fetchone()
        if row is None or not hmac.compare_digest(self._hash(password, row[0]), row[1]):
            return None
        return row[2]


class Credentials(BaseModel):
    email: str = Field(min_length=3, max_length=200)
    password: str = Field(min_length=8, max_length=200)


class Message(BaseModel):
    to: str
    text: str = Field(max_length=1600)


def create_app(creditflow: AsyncCreditflow, users_path: str = "users.db") -> FastAPI:
    app = FastAPI(title="Messaging API")
    users = Users(users_path)
    guard = CreditGuard(creditflow, price=MESSAGE_PRICE, currency="CREDITS")
    guard.install(app)

    async def new_key(customer: str) -> str:
        return (await creditflow.api_keys.create(customer, name="messaging")).key

    @app.post("/register", status_code=201)
    async def register(body: Credentials) -> dict[str, str]:
        customer = await creditflow.customers.create(external_id=f"msg-{uuid.uuid4().hex}", email=body.email,
                                                     currency="CREDITS")
        if not users.add(body.email, body.password, customer.id):
            raise HTTPException(409, "this email is registered already")
        await creditflow.credit_grants.create(customer=customer.id, amount=WELCOME_CREDITS, currency="CREDITS",
                                              category="promotional", description="welcome credits")
        return {"api_key": await new_key(customer.id)}

    @app.post("/login")
    async def login(body: Credentials) -> dict[str, str]:
        customer = users.check(body.email, body.password)
        if customer is None:
            raise HTTPException(401, "wrong email or password")
        return {"api_key": await new_key(customer)}

    @app.post("/send-message")
    async def send_message(message: Message, charge: Charge = guard.dependency()) -> dict[str, str]:
        # Deliver the message here; a failure raised from this route voids the hold, so it costs nothing.
        return {"status": "sent", "to": message.to, "charge": charge.hold_id}

    @app.get("/credits")
    async def credits(x_api_key: str = Header()) -> dict[str, str]:
        verified = await creditflow.api_keys.verify(key=x_api_key)
        if not verified.valid:
            raise HTTPException(401, "invalid API key")
        [wallet] = [w async for w in creditflow.wallets.list(verified.customer) if w.currency == "CREDITS"]
        return {"credits": str(wallet.available)}

    return app


def app_from_env() -> FastAPI:
    """For `uvicorn --factory`: creditflow from CREDITFLOW_API_KEY and CREDITFLOW_BASE_URL."""
    return create_app(AsyncCreditflow(), os.environ.get("MESSAGING_USERS_DB", "users.db"))
