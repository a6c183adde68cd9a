"""Credit packages: create, read, list, archive; and top-ups bought from them."""

from __future__ import annotations

from tests.factories import customer_id, expect_error, ok
from tests.topups.support import open_topup


async def make_package(client, **fields) -> dict:
    body = {"name": "Starter", "price": {"amount": "1000", "currency": "INR"}, "credits": "100",
            "currency_of_credits": "CREDITS", **fields}
    return ok(await client.post("/v1/packages", json=body), 201)


async def test_a_package_prices_credits_in_money(client) -> None:
    package = await make_package(client, bonus_credits="10")
    assert {k: package[k] for k in ("object", "name", "price", "credits", "bonus_credits", "currency_of_credits",
                                    "status")} == {
        "object": "package", "name": "Starter", "price": {"amount": "1000.00", "currency": "INR"},
        "credits": "100", "bonus_credits": "10", "currency_of_credits": "CREDITS", "status": "active",
    }
    assert ok(await client.get(f"/v1/packages/{package['id']}")) == package


async def test_credits_default_to_the_price_currency_and_the_bonus_to_the_tiers(client) -> None:
    package = await make_package(client, currency_of_credits=None, credits="1000")
    assert (package["currency_of_credits"], package["credits"], package["bonus_credits"]) == ("INR", "1000.00", None)


async def test_list_and_archive(client) -> None:
    first, second = await make_package(client, name="A"), await make_package(client, name="B")
    archived = ok(await client.post(f"/v1/packages/{first['id']}/archive"))
    assert archived["status"] == "archived" and archived["archived_at"] is not None
    listed = ok(await client.get("/v1/packages"))["data"]
    assert [p["id"] for p in listed] == [second["id"], first["id"]]
    active = ok(await client.get("/v1/packages", params={"status": "active"}))["data"]
    assert [p["id"] for p in active] == [second["id"]]
    again = ok(await client.post(f"/v1/packages/{first['id']}/archive"))
    assert again["archived_at"] == archived["archived_at"]


async def test_an_archived_package_cannot_be_bought(client) -> None:
    package = await make_package(client)
    ok(await client.post(f"/v1/packages/{package['id']}/archive"))
    customer = await customer_id(client, currency="INR")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    refused = await client.post("/v1/topups", json={"customer": customer, "package": package["id"],
                                                    "gateway": "sandbox"})
    expect_error(refused, 409, "package_archived")


async def test_a_price_outside_the_currency_limits_is_refused_naming_the_limit(client) -> None:
    error = expect_error(
        await client.post("/v1/packages", json={"name": "Tiny", "price": {"amount": "50", "currency": "INR"},
                                                "credits": "5"}),
        422, "topup_amount_out_of_range",
    )
    assert error["param"] == "price.amount"
    assert error["details"] == {"limit": "minimum", "amount": "100.00", "currency": "INR"}


async def test_prices_are_in_money_and_in_its_minor_units(client) -> None:
    credits = await client.post("/v1/packages", json={"name": "X", "price": {"amount": "10", "currency": "CREDITS"},
                                                      "credits": "5"})
    assert expect_error(credits, 422, "invalid_request")["param"] == "price.currency"
    fraction = await client.post("/v1/packages", json={"name": "X", "price": {"amount": "10.001", "currency": "USD"},
                                                       "credits": "5"})
    assert expect_error(fraction, 422, "amount_not_in_minor_units")["param"] == "price.amount"
    expect_error(await client.get("/v1/packages/pkg_missing"), 404, "not_found")


async def test_a_package_top_up_credits_the_package_unit(client) -> None:
    package = await make_package(client, bonus_credits="10")
    customer = await customer_id(client, currency="INR")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    opened = await open_topup(client, customer, "sandbox", package=package["id"])
    assert {k: opened[k] for k in ("package", "description", "amount", "subtotal", "tax", "total", "credits",
                                   "bonus_credits", "currency_of_credits")} == {
        "package": package["id"], "description": "Starter", "amount": "1000.00", "subtotal": "1000.00",
        "tax": "180.00", "total": "1180.00", "credits": "100", "bonus_credits": "10", "currency_of_credits": "CREDITS",
    }
