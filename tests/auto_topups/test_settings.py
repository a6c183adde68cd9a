"""PUT/GET/DELETE .../wallets/{currency}/auto_topup: what is accepted, what is refused (and changes nothing)."""

from __future__ import annotations

from tests.auto_topups.support import carded_customer, set_auto_topup, settings_url
from tests.factories import customer_id, expect_error, ok


async def test_settings_are_set_read_replaced_and_removed(client, gateway_client, fakes) -> None:
    customer, card = await carded_customer(client, gateway_client, fakes)
    created = await set_auto_topup(client, customer, threshold="5", amount="20", max_per_day=2)
    assert {k: created[k] for k in ("wallet", "threshold", "amount", "target_balance", "currency", "max_per_day",
                                     "payment_method", "link_gateway", "failures", "retry_at")} == {
        "wallet": "USD", "threshold": "5.00", "amount": "20.00", "target_balance": None, "currency": "USD",
        "max_per_day": 2, "payment_method": None, "link_gateway": None, "failures": 0, "retry_at": None,
    }
    replaced = await set_auto_topup(client, customer, threshold="1", target_balance="30", payment_method=card["id"])
    assert (replaced["amount"], replaced["target_balance"], replaced["payment_method"], replaced["max_per_day"]) == (
        None, "30.00", card["id"], 1
    )
    assert ok(await client.get(settings_url(customer))) == replaced
    assert (await client.delete(settings_url(customer))).status_code == 204
    expect_error(await client.get(settings_url(customer)), 404, "not_found")
    expect_error(await client.delete(settings_url(customer)), 404, "not_found")


async def test_bad_settings_are_refused_naming_the_field(client, gateway_client, fakes) -> None:
    customer, card = await carded_customer(client, gateway_client, fakes)
    cases = [
        ({"threshold": "5", "amount": "20", "target_balance": "30"}, 422, "validation_error", None),
        ({"threshold": "5"}, 422, "validation_error", None),
        ({"threshold": "5", "target_balance": "5"}, 422, "invalid_request", "target_balance"),
        ({"threshold": "5", "amount": "0.001"}, 422, "amount_not_in_minor_units", "amount"),
        ({"threshold": "5", "amount": "20", "max_per_day": 0}, 422, "validation_error", "max_per_day"),
        ({"threshold": "5", "amount": "20", "currency": "IDR"}, 422, "invalid_request", "currency"),
        ({"threshold": "5", "amount": "20", "payment_method": "pm_nope"}, 404, "not_found", "id"),
    ]
    for body, status, code, param in cases:
        error = expect_error(await client.put(settings_url(customer), json=body), status, code)
        if param is not None:
            assert error["param"] == param, (body, error)
    expect_error(await client.get(settings_url(customer)), 404, "not_found")

    other = await customer_id(client, currency="USD")
    theirs = {"threshold": "5", "amount": "20", "payment_method": card["id"]}
    expect_error(await client.put(settings_url(other), json=theirs), 404, "not_found")
    no_way = expect_error(await client.put(settings_url(other), json={"threshold": "5", "amount": "20"}), 422,
                          "invalid_request")
    assert no_way["param"] == "payment_method"
    expect_error(await client.put(settings_url("cus_nope"), json={"threshold": "5", "amount": "20"}), 404,
                 "not_found")


async def test_a_credits_wallet_is_topped_up_in_the_currency_that_credits_it(client) -> None:
    customer = await customer_id(client, currency="USD")
    ok(await client.post(f"/v1/customers/{customer}/wallets", json={"currency": "CREDITS"}), 201)
    body = {"threshold": "100", "amount": "20", "link_gateway": "sandbox"}
    wrong = expect_error(await client.put(settings_url(customer, "CREDITS"), json=body), 422, "invalid_request")
    assert wrong["param"] == "currency"
