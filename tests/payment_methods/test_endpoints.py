"""GET/POST/DELETE /v1/customers/{customer}/payment_methods: list, choose the default, detach (at Stripe first;
idempotent; the default passes to the newest other card); another customer's method is not found."""

from __future__ import annotations

from tests.factories import customer_id, expect_error, make_customer, ok
from tests.payment_methods.support import listed, methods_url, save_card
from tests.webhooks.support import events_of


async def _two_cards(client, gateway_client, fakes, **customer_fields) -> tuple[str, dict, dict]:
    customer = await customer_id(client, currency="USD", **customer_fields)
    first, _ = await save_card(client, gateway_client, fakes, customer)
    second, _ = await save_card(client, gateway_client, fakes, customer)
    return customer, first, second


async def test_list_newest_first_by_id_or_external_id(client, gateway_client, fakes) -> None:
    customer = await make_customer(client, currency="USD")
    first, _ = await save_card(client, gateway_client, fakes, customer["id"])
    second, _ = await save_card(client, gateway_client, fakes, customer["id"])
    assert [m["id"] for m in await listed(client, customer["external_id"])] == [second["id"], first["id"]]
    page = ok(await client.get(methods_url(customer["id"]), params={"limit": 1}))
    assert ([m["id"] for m in page["data"]], page["has_more"]) == ([second["id"]], True)
    assert await listed(client, await customer_id(client)) == []
    expect_error(await client.get(methods_url("nobody")), 404, "not_found")


async def test_make_another_card_the_default(client, gateway_client, fakes) -> None:
    customer, first, second = await _two_cards(client, gateway_client, fakes)
    chosen = ok(await client.post(methods_url(customer, second["id"], "default")))
    assert (chosen["id"], chosen["is_default"]) == (second["id"], True)
    assert {m["id"]: m["is_default"] for m in await listed(client, customer)} == {first["id"]: False,
                                                                                  second["id"]: True}
    again = ok(await client.post(methods_url(customer, second["id"], "default")))
    assert again["is_default"] is True
    assert [m["id"] for m in await listed(client, customer) if m["is_default"]] == [second["id"]]


async def test_detach_removes_the_card_at_stripe_and_promotes_the_newest_other(
    client, gateway_client, fakes
) -> None:
    customer, first, second = await _two_cards(client, gateway_client, fakes)
    third, _ = await save_card(client, gateway_client, fakes, customer)
    detach_calls = ("POST", f"/v1/payment_methods/{first['gateway_method']}/detach")
    detached = ok(await client.delete(methods_url(customer, first["id"])))
    assert (detached["status"], detached["is_default"], detached["detached_at"]) == (
        "detached", False, "2026-03-02T09:00:00Z"
    )
    assert fakes.stripe.payment_methods[first["gateway_method"]]["customer"] is None
    assert first["gateway_method"] not in fakes.stripe.saved_methods[first["gateway_customer"]]
    active = await listed(client, customer)
    assert [(m["id"], m["is_default"]) for m in active] == [(third["id"], True), (second["id"], False)]
    assert [m["id"] for m in await listed(client, customer, include_detached="true")] == [
        third["id"], second["id"], first["id"]
    ]
    # Detaching again answers the detached method, without asking Stripe again.
    calls = fakes.stripe.requests.count(detach_calls)
    assert ok(await client.delete(methods_url(customer, first["id"]))) == detached
    assert fakes.stripe.requests.count(detach_calls) == calls == 1
    [event] = await events_of(client, "payment_method.detached")
    assert (event["data"]["payment_method"]["id"], event["data"]["payment_method"]["status"]) == (
        first["id"], "detached"
    )


async def test_detaching_the_last_card_leaves_no_default_and_a_detached_card_cannot_be_default(
    client, gateway_client, fakes
) -> None:
    customer = await customer_id(client, currency="USD")
    only, _ = await save_card(client, gateway_client, fakes, customer)
    ok(await client.delete(methods_url(customer, only["id"])))
    assert await listed(client, customer) == []
    expect_error(await client.post(methods_url(customer, only["id"], "default")), 409, "payment_method_detached")


async def test_stripe_unreachable_changes_nothing_and_a_retry_finishes(client, gateway_client, fakes) -> None:
    customer = await customer_id(client, currency="USD")
    card, _ = await save_card(client, gateway_client, fakes, customer)
    fakes.stripe.fail_next(503, {"error": {"type": "api_error", "message": "try later"}})
    error = expect_error(await client.delete(methods_url(customer, card["id"])), 503, "gateway_unavailable")
    assert error["details"]["gateway"] == "stripe"
    assert await listed(client, customer) == [card]
    assert fakes.stripe.payment_methods[card["gateway_method"]]["customer"] == card["gateway_customer"]
    # Stripe detached it, but its answer was lost: the retry finds it detached there and finishes here.
    fakes.stripe.lose_next_answer()
    expect_error(await client.delete(methods_url(customer, card["id"])), 503, "gateway_unavailable")
    assert fakes.stripe.payment_methods[card["gateway_method"]]["customer"] is None
    assert (await listed(client, customer))[0]["status"] == "active"
    assert ok(await client.delete(methods_url(customer, card["id"])))["status"] == "detached"
    assert await listed(client, customer) == []


async def test_another_customers_method_is_not_found(client, gateway_client, fakes) -> None:
    owner = await customer_id(client, currency="USD")
    card, _ = await save_card(client, gateway_client, fakes, owner)
    stranger = await customer_id(client, currency="USD")
    for response in (
        await client.post(methods_url(stranger, card["id"], "default")),
        await client.delete(methods_url(stranger, card["id"])),
        await client.post(methods_url(stranger, card["id"], "charge"), json={"amount": "5", "currency": "USD"},
                          headers={"Idempotency-Key": "stranger-1"}),
        await client.delete(methods_url(owner, "pm_unknown")),
    ):
        assert expect_error(response, 404, "not_found")["param"] == "id"
    assert fakes.stripe.payment_methods[card["gateway_method"]]["customer"] == card["gateway_customer"]
    assert (await listed(client, owner))[0]["status"] == "active"
