"""Coupon limits hold across processes: 4 processes race for the last redemption, and one customer races
itself past its per-customer limit; exactly one checkout gets the coupon each time."""

from __future__ import annotations

from collections import Counter

from tests.factories import make_customer, ok
from tests.scenarios.procs import Call
from tests.scenarios.test_concurrency import fire, operator

RACERS = 8


def _topup(customer: str, code: str) -> Call:
    body = {"customer": customer, "gateway": "sandbox", "amount": "1000", "currency": "INR", "coupon": code}
    return Call("/v1/topups", body, {})


async def test_four_processes_never_take_more_redemptions_than_the_coupon_has(database_url):
    async with operator(database_url) as (client, key):
        ok(await client.post("/v1/coupons", json={"code": "LAST", "kind": "percent_off", "value": "10",
                                                  "max_redemptions": 1, "per_customer_limit": 5}), 201)
        ok(await client.post("/v1/coupons", json={"code": "MINE", "kind": "percent_off", "value": "10"}), 201)
        racers = [(await make_customer(client, currency="INR"))["id"] for _ in range(RACERS)]
        alone = racers[0]
        # One start line for both races (spawning processes is the slow part).
        calls = [_topup(customer, "LAST") for customer in racers] + [_topup(alone, "MINE") for _ in range(RACERS)]
        answers = await fire(database_url, key, calls)
        assert Counter(a.status for a in answers) == {201: 2, 422: 2 * RACERS - 2}
        assert {a.body["error"]["code"] for a in answers if a.status == 422} == {"coupon_exhausted"}
        for code in ("LAST", "MINE"):
            assert ok(await client.get(f"/v1/coupons/{code}"))["times_redeemed"] == 1
            assert len(ok(await client.get(f"/v1/coupons/{code}/redemptions"))["data"]) == 1
        (redemption,) = ok(await client.get("/v1/coupons/MINE/redemptions"))["data"]
        assert redemption["customer"] == alone
