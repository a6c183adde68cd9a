"""examples/messaging_api against a real `creditflow serve`: 100 CREDITS a message, refused below 100."""

from __future__ import annotations

from pathlib import Path

import httpx

from creditflow_client import AsyncCreditflow
from examples.messaging_api.app import create_app
from tests.served import Served


async def test_register_send_until_the_credits_run_out_and_read_the_balance(served: Served, tmp_path: Path) -> None:
    async with AsyncCreditflow(served.operator_key, served.base_url) as cf:
        app = create_app(cf, str(tmp_path / "users.db"))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://messaging") as api:
            user = {"email": "ayu@example.com", "password": "correct horse"}
            registered = await api.post("/register", json=user)
            assert registered.status_code == 201, registered.text
            key = {"x-api-key": registered.json()["api_key"]}
            assert (await api.post("/register", json=user)).status_code == 409
            assert (await api.get("/credits", headers=key)).json() == {"credits": "250"}

            for _ in range(2):
                sent = await api.post("/send-message", headers=key, json={"to": "+628123", "text": "hi"})
                assert sent.status_code == 200 and sent.json()["status"] == "sent"
            assert (await api.get("/credits", headers=key)).json() == {"credits": "50"}
            refused = await api.post("/send-message", headers=key, json={"to": "+628123", "text": "hi"})
            assert refused.status_code == 402 and refused.json()["error"]["code"] == "insufficient_funds"
            assert (await api.get("/credits", headers=key)).json() == {"credits": "50"}

            assert (await api.post("/login", json={**user, "password": "wrong password"})).status_code == 401
            login = await api.post("/login", json=user)
            other_key = {"x-api-key": login.json()["api_key"]}
            assert (await api.get("/credits", headers=other_key)).json() == {"credits": "50"}
            unsigned = await api.post("/send-message", json={"to": "+628123", "text": "hi"})
            assert unsigned.status_code == 401
