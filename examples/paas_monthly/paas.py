"""A PaaS that sells hosted apps by the month, paid from a prepaid rupiah balance.

    CREDITFLOW_API_KEY=cf_sk_... python -m examples.paas_monthly.paas ayu --top-up 100000 --pay --apps n8n ghost

Plans: n8n 25,000 IDR, Ghost 35,000 IDR and WordPress 30,000 IDR a month, charged from the customer's IDR
wallet when the subscription starts and again by creditflow's job runner at each period's end. The balance
is filled through a top-up; with the built-in `sandbox` gateway (no account anywhere) the script can press
its Pay button itself (`--pay`).
"""

from __future__ import annotations

import argparse
import contextlib
import re
import time
from decimal import Decimal
from typing import Any

import httpx

from creditflow_client import Conflict, Creditflow

PLANS = {
    "n8n": ("n8n", Decimal(25_000)), "ghost": ("Ghost", Decimal(35_000)), "wordpress": ("WordPress", Decimal(30_000)),
}


def set_up_plans(cf: Creditflow, prefix: str = "", trial_days: int = 0) -> dict[str, str]:
    """The three monthly plans (kept if they exist already): code -> plan id."""
    ids = {}
    for code, (name, price) in PLANS.items():
        try:
            plan = cf.plans.create(code=f"{prefix}{code}", name=name, interval="month", trial_days=trial_days,
                                   price={"amount": price, "currency": "IDR"})
        except Conflict:
            plan = cf.plans.retrieve(f"{prefix}{code}")
        ids[code] = plan.id
    return ids


def top_up(cf: Creditflow, customer: str, amount: Decimal, pay: bool = False) -> Any:
    """A sandbox top-up of `amount` rupiah (PPN 11% on top); with `pay`, its checkout's Pay button pressed."""
    topup = cf.topups.create(customer=customer, gateway="sandbox", amount=amount, currency="IDR",
                             return_url="https://paas.example/billing")
    if not pay:
        return topup
    with httpx.Client(timeout=15) as browser:
        page = browser.get(topup.checkout_url)
        page.raise_for_status()
        token = re.search(r'name="token" value="([^"]+)"', page.text)
        if token is None:
            raise RuntimeError("the sandbox checkout page has no payment form")
        checkout = topup.checkout_url.split("?")[0]
        browser.post(checkout, data={"token": token.group(1), "outcome": "paid"})
    return wait_for(lambda: cf.topups.retrieve(topup.id), lambda t: t.status == "paid", "the top-up to be paid")


def wait_for(read: Any, done: Any, what: str, timeout: float = 60.0) -> Any:
    """Read until `done` says so: the sandbox's notification and the job runner arrive on their own."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"waited {timeout:.0f} s for {what}")
        time.sleep(0.2)


def balance(cf: Creditflow, customer: str) -> Decimal:
    return next(w.available for w in cf.wallets.list(customer) if w.currency == "IDR")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("customer")
    parser.add_argument("--top-up", type=Decimal, default=Decimal(100_000))
    parser.add_argument("--pay", action="store_true", help="press the sandbox checkout's Pay button")
    parser.add_argument("--apps", nargs="+", choices=list(PLANS), default=list(PLANS), help="default: all three")
    args = parser.parse_args()
    with Creditflow() as cf:
        plans = set_up_plans(cf)
        with contextlib.suppress(Conflict):  # an existing customer tops up and subscribes again
            cf.customers.create(external_id=args.customer, currency="IDR")
        topup = top_up(cf, args.customer, args.top_up, pay=args.pay)
        print(f"top-up {topup.id}: {topup.status}" + ("" if args.pay else f", pay at {topup.checkout_url}"))
        if not args.pay:
            return
        for app in args.apps:
            subscription = cf.subscriptions.create(customer=args.customer, plan=plans[app])
            print(f"{PLANS[app][0]}: {subscription.status} until {subscription.current_period_end}")
        print(f"balance: {balance(cf, args.customer)} IDR")


if __name__ == "__main__":
    main()
