"""Scenario: a `creditflow serve` user tries a whole top-up with no account anywhere.

The real server runs as a subprocess. Over HTTP, the operator opens a sandbox top-up; the customer opens
the checkout link, sees the order and presses Pay; the page sends the server its signed notification, the
webhook credits the wallet and issues a paid invoice, and the customer lands back on the shop.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.test_cli import cli_env, free_port, running, secrets_in

START_TIMEOUT = 30.0


def wait_until_live(base: str, process, err: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        assert process.poll() is None, f"serve exited {process.returncode}: {err.read_text()}"
        try:
            if httpx.get(f"{base}/health/live", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"serve did not come up: {err.read_text()}"
        time.sleep(0.1)


def test_a_sandbox_top_up_paid_through_the_checkout_page(tmp_path: Path, database_url: str) -> None:
    port = free_port()
    # The port is given only on the command line; the sandbox's links (public URL) must still point here.
    env = cli_env(database_url=database_url, seller_name="Demo Shop")
    with running(["serve", "--port", str(port)], tmp_path, env) as (process, out, err):
        base = f"http://127.0.0.1:{port}"
        wait_until_live(base, process, err)
        [key] = secrets_in(out.read_text())
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=15) as api:
            customer = api.post("/v1/customers", json={"external_id": "ayu", "name": "Ayu", "currency": "INR"}).json()
            opened = api.post("/v1/topups", json={
                "customer": "ayu", "gateway": "sandbox", "amount": "1000", "currency": "INR",
                "return_url": "https://shop.example/topup/done",
            })
            assert opened.status_code == 201, opened.text
            topup = opened.json()
            assert (topup["status"], topup["total"]) == ("pending", "1180.00")
            assert topup["checkout_url"].startswith(f"{base}/sandbox/checkout/{topup['id']}?token=")

            with httpx.Client(timeout=15) as browser:
                page = browser.get(topup["checkout_url"])
                assert page.status_code == 200 and "1180.00 INR" in page.text
                form_token = re.search(r'name="token" value="([^"]+)"', page.text)
                assert form_token is not None
                pressed = browser.post(f"{base}/sandbox/checkout/{topup['id']}",
                                       data={"token": form_token.group(1), "outcome": "paid"})
                assert pressed.status_code == 303, pressed.text
                back = urlsplit(pressed.headers["location"])
                assert (back.netloc, back.path) == ("shop.example", "/topup/done")
                assert parse_qs(back.query) == {"topup_id": [topup["id"]], "status": ["paid"]}
                assert browser.get(topup["checkout_url"]).status_code == 410

            paid = api.get(f"/v1/topups/{topup['id']}").json()
            assert (paid["status"], paid["credits"], paid["bonus_credits"]) == ("paid", "1000.00", "150.00")
            wallet = api.get("/v1/customers/ayu/wallets").json()["data"][0]
            assert (wallet["currency"], wallet["available"]) == ("INR", "1150.00")
            invoice = api.get(f"/v1/invoices/{paid['invoice']}").json()
            assert (invoice["status"], invoice["customer"], invoice["paid_via"]) == ("paid", customer["id"], "sandbox")
            assert (invoice["subtotal"], invoice["tax"], invoice["total"]) == ("1000.00", "180.00", "1180.00")
            assert invoice["seller"]["name"] == "Demo Shop"
            pdf = api.get(f"/v1/invoices/{paid['invoice']}/pdf")
            assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
