"""GET /v1/exports/*.csv: the same rows as the API's list for the same filter, across pages, streamed."""

from __future__ import annotations

import csv
import io
import json

import pytest

from creditflow.exports import endpoints
from tests.factories import customer_id, debit, expect_error, grant, ok
from tests.topups.support import open_topup


def _csv(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.text)))


async def _listed(client, path: str, **params: str) -> list[dict]:
    items, cursor = [], None
    while True:
        after = {"starting_after": cursor} if cursor else {}
        page = ok(await client.get(path, params={**params, "limit": 100, **after}))
        items += page["data"]
        if not page["has_more"]:
            return items
        cursor = page["data"][-1]["id"]


async def test_transactions_match_the_list_for_the_same_filter_across_pages(client, monkeypatch) -> None:
    monkeypatch.setattr(endpoints, "PAGE_SIZE", 2)  # several pages from a few rows
    ayu, budi = await customer_id(client, currency="USD"), await customer_id(client, currency="USD")
    await grant(client, ayu, "10")
    await grant(client, budi, "3")
    for amount in ("1.25", "2", "0.000001"):
        assert (await debit(client, ayu, amount)).status_code == 201
    rows = _csv(await client.get("/v1/exports/transactions.csv", params={"customer": ayu}))
    listed = await _listed(client, "/v1/transactions", customer=ayu)
    assert len(rows) == len(listed) == 4
    for row, item in zip(rows, listed, strict=True):
        assert (row["id"], row["kind"], row["customer"], row["amount"]) == (
            item["id"], item["kind"], item["customer"], item["amount"])
        assert json.loads(row["transfers"]) == item["transfers"]
    assert len(_csv(await client.get("/v1/exports/transactions.csv"))) == 5


async def test_customer_text_is_escaped_and_numbers_are_bare(client) -> None:
    await customer_id(client, name="=HYPERLINK(\"http://x\")", email="-a@example.com")
    response = await client.get("/v1/exports/customers.csv")
    (row,) = _csv(response)
    assert row["name"] == "'=HYPERLINK(\"http://x\")" and row["email"] == "'-a@example.com"
    assert response.headers["content-disposition"] == 'attachment; filename="customers.csv"'


async def test_topups_invoices_and_events_export_their_lists(app, client) -> None:
    customer = await customer_id(client, currency="IDR")
    opened = await open_topup(client, customer, "sandbox", amount="100000", currency="IDR")
    (row,) = _csv(await client.get("/v1/exports/topups.csv", params={"status": "pending"}))
    assert (row["id"], row["total"], row["tax_details.rate_percent"]) == (opened["id"], "111000.00", "11")
    assert _csv(await client.get("/v1/exports/topups.csv", params={"status": "paid"})) == []
    assert _csv(await client.get("/v1/exports/invoices.csv")) == []
    assert _csv(await client.get("/v1/exports/events.csv")) == []


@pytest.mark.parametrize("path", ["/v1/exports/transactions.csv", "/v1/exports/events.csv"])
async def test_an_unknown_customer_is_a_404_before_any_row(client, path: str) -> None:
    expect_error(await client.get(path, params={"customer": "nobody"}), 404, "not_found")
