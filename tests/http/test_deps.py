"""Dependencies: the bearer operator key, pagination parameters."""

from __future__ import annotations

import httpx
import pytest

from creditflow.db.tx import Tx
from creditflow.keys.service import create_key, revoke_key
from tests.factories import make_api_key, make_customer


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "101"}, {"limit": "abc"}, {"limit": "1e3"}, {"limit": "-1"}, {"limit": ""}]
)
@pytest.mark.parametrize("path", ["/v1/customers", "/v1/transactions", "/v1/holds", "/v1/credit_grants"])
async def test_bad_limit_is_422_naming_limit(client, path, params):
    response = await client.get(path, params=params)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["param"] == "limit"


async def test_limit_defaults_to_20_and_allows_100(client):
    for i in range(21):
        await make_customer(client, external_id=f"c{i:02d}")
    default = (await client.get("/v1/customers")).json()
    assert (len(default["data"]), default["has_more"]) == (20, True)
    everything = (await client.get("/v1/customers", params={"limit": 100})).json()
    assert (len(everything["data"]), everything["has_more"]) == (21, False)


async def test_list_pages_with_starting_after_cover_everything_once(client):
    made = [(await make_customer(client, external_id=f"p{i}"))["id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 2, **({"starting_after": cursor} if cursor else {})}
        page = (await client.get("/v1/customers", params=params)).json()
        seen += [c["id"] for c in page["data"]]
        if not page["has_more"]:
            break
        cursor = seen[-1]
    assert seen == list(reversed(made))


async def test_bearer_scheme_is_case_insensitive(app, operator_key):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://creditflow.test") as http:
        response = await http.get("/v1/customers", headers={"Authorization": f"bearer {operator_key}"})
    assert response.status_code == 200, response.text


async def test_unauthenticated_response_asks_for_a_bearer_key(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://creditflow.test") as http:
        response = await http.get("/v1/customers")
    assert response.status_code == 401
    assert "Bearer" in response.json()["error"]["message"]


async def _credentials(app, client, kind: str) -> dict[str, str]:
    if kind == "none":
        return {}
    if kind == "customer key":
        customer = (await make_customer(client))["id"]
        return {"Authorization": f"Bearer {(await make_api_key(client, customer))['key']}"}
    async with app.state.engine.begin() as conn:
        tx = Tx(conn=conn, now=app.state.clock.now(), actor="test")
        key, secret = await create_key(tx, "old")
        await revoke_key(tx, key.id)
    return {"Authorization": f"Bearer {secret}"}


BAD_BODIES = [
    ("/v1/debits", "{}"), ("/v1/debits", "{"), ("/v1/debits", "1.5"), ("/v1/holds", "{}"),
    ("/v1/customers", '{"external_id": "\\u0000"}'), ("/v1/debits/op_x/refund", "[]"), ("/v1/topups", "{}"),
]


@pytest.mark.parametrize("kind", ["none", "revoked", "customer key"])
async def test_d8_the_key_is_checked_before_the_body_on_every_route(app, client, kind):
    headers = {"Content-Type": "application/json", **await _credentials(app, client, kind)}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test") as anon:
        for path, text in BAD_BODIES:
            response = await anon.post(path, content=text.encode(), headers=headers)
            assert response.status_code == 401, (path, text, response.text)
            assert response.json()["error"]["code"] == "unauthenticated"
