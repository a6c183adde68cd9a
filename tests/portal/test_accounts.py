"""Built-in end-user accounts: sign up with a first key, log in, one answer for wrong details, reset by email."""

from __future__ import annotations

import re

from sqlalchemy import select

from creditflow.db.tables import email_outbox
from tests.factories import expect_error, ok
from tests.portal.support import customer_client

DETAILS = {"email": "Ada@Example.com", "password": "correct horse battery"}


async def test_sign_up_gives_a_session_token_and_a_first_key_once(app) -> None:
    async with customer_client(app, "none") as anonymous:
        made = ok(await anonymous.post("/v1/portal/signup", json=DETAILS), 201)
        again = await anonymous.post("/v1/portal/signup", json=DETAILS)
    assert made["api_key"].startswith("cf_ck_")
    expect_error(again, 422, "invalid_request")
    async with customer_client(app, made["token"]) as portal:
        customer = ok(await portal.get("/v1/portal/customer"))
        keys = ok(await portal.get("/v1/portal/api_keys"))["data"]
    assert customer["email"] == "ada@example.com" and [k["name"] for k in keys] == ["Default key"]


async def test_log_in_answers_the_same_for_an_unknown_email_and_a_wrong_password(app) -> None:
    async with customer_client(app, "none") as anonymous:
        ok(await anonymous.post("/v1/portal/signup", json=DETAILS), 201)
        wrong = await anonymous.post("/v1/portal/login", json={**DETAILS, "password": "wrong password!"})
        unknown = await anonymous.post("/v1/portal/login", json={**DETAILS, "email": "bob@example.com"})
        right = ok(await anonymous.post("/v1/portal/login", json=DETAILS))
    assert wrong.json() == unknown.json() and wrong.status_code == unknown.status_code == 401
    assert right["token"]


async def test_a_reset_link_works_once_and_ends_every_session(app) -> None:
    async with customer_client(app, "none") as anonymous:
        made = ok(await anonymous.post("/v1/portal/signup", json=DETAILS), 201)
        origin = {"Origin": "http://creditflow.test"}
        asked = await anonymous.post("/portal/forgot", data={"email": "ada@example.com"}, headers=origin)
        nobody = await anonymous.post("/portal/forgot", data={"email": "nobody@example.com"}, headers=origin)
        assert asked.status_code == nobody.status_code == 200 and asked.text == nobody.text
        async with app.state.engine.connect() as conn:
            body = (await conn.execute(select(email_outbox.c.body))).scalar_one()
        token = re.search(r"token=([\w-]+)", body).group(1)
        new = {"token": token, "password": "a brand new password"}
        assert (await anonymous.post("/portal/reset", data=new, headers=origin)).status_code == 303
        assert (await anonymous.post("/portal/reset", data=new, headers=origin)).status_code == 422
    async with customer_client(app, made["token"]) as old_session:
        expect_error(await old_session.get("/v1/portal/customer"), 401, "unauthenticated")


async def test_sign_up_is_rate_limited_per_address(app, settings) -> None:
    settings.portal_signup_per_hour = 2
    async with customer_client(app, "none") as anonymous:
        for n in range(2):
            ok(await anonymous.post("/v1/portal/signup", json={**DETAILS, "email": f"u{n}@example.com"}), 201)
        refused = await anonymous.post("/v1/portal/signup", json={**DETAILS, "email": "u9@example.com"})
    expect_error(refused, 429, "rate_limited")
