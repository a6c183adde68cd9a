"""Issue 11: query values are declared, typed strictly and never coerced; lists keep one shape."""

from __future__ import annotations

import pytest

from tests.factories import debit, expect_error, grant, make_customer, ok


@pytest.mark.parametrize(
    ("url", "param"),
    [("/v1/customers?emial=x", "emial"), ("/v1/transactions?since=2026-01-01T00:00:00Z", "since"),
     ("/v1/holds?limit=5&colour=red", "colour")],
)
async def test_an_unknown_query_parameter_is_422_naming_it(client, url, param):
    error = expect_error(await client.get(url), 422, "validation_error")
    assert error["param"] == param
    assert "unknown query parameter" in error["message"]


@pytest.mark.parametrize(
    ("url", "param"),
    [("/v1/transactions?to=0", "to"), ("/v1/transactions?from=1700000000", "from"),
     ("/v1/reports/daily?to=0", "to"), ("/v1/customers/c/payment_methods?include_detached=1", "include_detached"),
     ("/v1/customers/c/usage?from=0", "from")],
)
async def test_timestamps_and_booleans_sent_as_numbers_are_422_not_coerced(client, url, param):
    assert expect_error(await client.get(url), 422, "validation_error")["param"] == param


async def test_customers_are_filtered_by_email_in_any_case(client):
    wanted = await make_customer(client, email="Ana@Example.com")
    await make_customer(client, email="bob@example.com")
    found = ok(await client.get("/v1/customers", params={"email": "ana@example.COM"}))
    assert [c["id"] for c in found["data"]] == [wanted["id"]]


async def test_transactions_are_filtered_by_from_to_and_kind(client, clock):
    customer = (await make_customer(client))["id"]
    await grant(client, customer, "5.00")
    clock.advance(hours=1)
    middle = clock.now().isoformat()
    assert (await debit(client, customer, "1.00")).status_code == 201
    clock.advance(hours=1)
    end = clock.now().isoformat()
    await grant(client, customer, "2.00")

    def kinds(page: dict) -> list[str]:
        return [t["kind"] for t in page["data"]]

    assert kinds(ok(await client.get("/v1/transactions", params={"from": middle, "to": end}))) == ["debit"]
    assert kinds(ok(await client.get("/v1/transactions", params={"from": middle}))) == ["grant", "debit"]
    assert kinds(ok(await client.get("/v1/transactions", params={"kind": "grant"}))) == ["grant", "grant"]


@pytest.mark.parametrize(("path", "key"), [("/v1/customers/{c}/wallets", "id"), ("/v1/webhook_event_types", "type")])
async def test_every_list_answers_object_list_data_and_has_more_and_pages(client, path, key):
    customer = (await make_customer(client))["id"]
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    whole = ok(await client.get(path.format(c=customer), params={"limit": 100}))
    assert (whole["object"], whole["has_more"]) == ("list", False)
    first = ok(await client.get(path.format(c=customer), params={"limit": 1}))
    assert (first["data"], first["has_more"]) == (whole["data"][:1], True)
    rest = ok(await client.get(path.format(c=customer), params={"starting_after": first["data"][0][key], "limit": 100}))
    assert rest["data"] == whole["data"][1:]
