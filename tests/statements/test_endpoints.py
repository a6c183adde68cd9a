"""GET /v1/customers/{customer}/statements/{YYYY-MM}: opening balance, the month's movements by category and
the closing balance, reconciling exactly; only once the month's late-event window is over."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from decimal import Decimal

from pypdf import PdfReader

from tests.factories import customer_id, debit, expect_error, grant, ok
from tests.metering._helpers import make_metric, make_price, send
from tests.topups.support import deliver, open_topup, sandbox_notification


async def test_a_month_reconciles_from_opening_to_closing(app, client, clock) -> None:
    clock.set(datetime(2025, 12, 20, tzinfo=UTC))
    customer = await customer_id(client, currency="USD")
    await grant(client, customer, "10")  # December: the opening balance of January
    clock.set(datetime(2026, 1, 5, tzinfo=UTC))
    await grant(client, customer, "100")
    opened = await open_topup(client, customer, "sandbox", amount="50", currency="USD")
    await deliver(client, "sandbox", sandbox_notification(app, opened))
    await make_metric(client, "calls")
    await make_price(client, "calls", properties={"amount": "1.00"})
    for n in range(3):
        ok(await send(client, customer, "calls", f"c-{n}"), 201)
    assert (await debit(client, customer, "2")).status_code == 201
    await grant(client, customer, "5", category="promotional", expires_at="2026-01-20T00:00:00Z")
    clock.set(datetime(2026, 1, 21, tzinfo=UTC))
    await app.state.jobs.run_once()  # the promotional grant, unspent, expires to breakage

    clock.set(datetime(2026, 2, 1, 12, tzinfo=UTC))
    expect_error(await client.get(f"/v1/customers/{customer}/statements/2026-01"), 409, "statement_not_ready")
    clock.set(datetime(2026, 2, 2, tzinfo=UTC))
    statement = ok(await client.get(f"/v1/customers/{customer}/statements/2026-01"))
    (usd,) = statement["wallets"]
    assert (usd["currency"], usd["opening_balance"], usd["closing_balance"]) == ("USD", "10.00", "155.00")
    moved = {name: amount for name, amount in usd["movements"].items() if Decimal(amount)}
    assert moved == {"topups": "50.00", "grants": "105.00", "usage": "-5.00", "expiries": "-5.00"}
    total = Decimal(usd["opening_balance"]) + sum(Decimal(a) for a in usd["movements"].values())
    assert total == Decimal(usd["closing_balance"])
    assert statement["usage_by_metric"] == [{"metric": "calls", "currency": "USD", "events": 3, "cost": "3.00"}]
    assert (statement["start"], statement["end"]) == ("2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z")

    pdf = await client.get(f"/v1/customers/{customer}/statements/2026-01/pdf")
    assert (pdf.status_code, pdf.headers["content-type"]) == (200, "application/pdf")
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()
    for figure in ("Statement 2026-01", "10.00 USD", "50.00 USD", "105.00 USD", "-5.00 USD", "155.00 USD", "calls"):
        assert figure in text, figure


async def test_a_bad_month_is_422(client) -> None:
    customer = await customer_id(client)
    expect_error(await client.get(f"/v1/customers/{customer}/statements/2026-13"), 422, "invalid_request")
    expect_error(await client.get("/v1/customers/nobody/statements/2026-01"), 404, "not_found")
