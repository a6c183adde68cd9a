"""GET /metrics: who may read it, and that each listed series moves when its event happens."""

from __future__ import annotations

import httpx
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from creditflow.app import create_app
from tests.factories import debit, grant, make_customer, ok, usage_client


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scraped(text: str) -> dict[str, float]:
    """Unlabelled samples of a scrape, by name."""
    return {
        s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples if not s.labels
    }


async def test_metrics_needs_an_operator_key_with_the_all_scope(app, client):
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://creditflow.test")
    async with anonymous, await usage_client(app) as usage:
        assert (await anonymous.get("/metrics")).status_code == 401
        assert (await usage.get("/metrics")).status_code == 403
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert "creditflow_http_requests_total" in response.text


async def test_metrics_are_open_without_a_key_to_the_listed_networks(settings, clock):
    app = create_app(settings.model_copy(update={"metrics_open_to": "10.0.0.0/8, 127.0.0.0/8"}), clock=clock)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as anonymous:
            response = await anonymous.get("/metrics")
    finally:
        await app.state.engine.dispose()
    assert response.status_code == 200


async def test_requests_ledger_operations_402s_replays_and_batches_are_counted(client):
    customer = await make_customer(client)
    before = {
        "debits": sample("creditflow_http_requests_total", method="POST", route="/v1/debits", status="201"),
        "by_id": sample("creditflow_http_requests_total", method="GET", route="/v1/customers/{customer}",
                        status="200"),
        "grant_ops": sample("creditflow_ledger_operations_total", kind="grant"),
        "debit_ops": sample("creditflow_ledger_operations_total", kind="debit"),
        "refused": sample("creditflow_payment_required_total", reason="insufficient_funds"),
        "replays": sample("creditflow_idempotency_replays_total"),
        "batches": sample("creditflow_group_commit_batch_size_count", committer="debits"),
        "unmatched": sample("creditflow_http_requests_total", method="GET", route="unmatched", status="404"),
    }
    await grant(client, customer["id"], "5.00")
    ok(await client.get(f"/v1/customers/{customer['id']}"))
    body = {"customer": customer["id"], "amount": "1.00"}
    assert (await client.post("/v1/debits", json=body, headers={"Idempotency-Key": "once"})).status_code == 201
    replay = await client.post("/v1/debits", json=body, headers={"Idempotency-Key": "once"})
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert (await debit(client, customer["id"], "100.00")).status_code == 402
    assert (await client.get("/no/such/thing/42")).status_code == 404

    assert sample("creditflow_http_requests_total", method="POST", route="/v1/debits", status="201") == (
        before["debits"] + 2
    )
    assert sample("creditflow_http_requests_total", method="GET", route="/v1/customers/{customer}",
                  status="200") == before["by_id"] + 1
    assert sample("creditflow_http_request_duration_seconds_count", method="POST", route="/v1/debits") >= 3
    assert sample("creditflow_ledger_operations_total", kind="grant") == before["grant_ops"] + 1
    assert sample("creditflow_ledger_operations_total", kind="debit") == before["debit_ops"] + 1
    assert sample("creditflow_payment_required_total", reason="insufficient_funds") == before["refused"] + 1
    assert sample("creditflow_idempotency_replays_total") == before["replays"] + 1
    assert sample("creditflow_group_commit_batch_size_count", committer="debits") >= before["batches"] + 2
    assert sample("creditflow_http_requests_total", method="GET", route="unmatched", status="404") == (
        before["unmatched"] + 1
    )


async def test_a_refused_operation_is_not_counted_as_a_ledger_operation(client):
    customer = await make_customer(client)
    debits = sample("creditflow_ledger_operations_total", kind="debit")
    holds = sample("creditflow_ledger_operations_total", kind="hold")
    assert (await debit(client, customer["id"], "1.00")).status_code == 402
    assert (await client.post("/v1/holds", json={"customer": customer["id"], "amount": "1"})).status_code == 402
    assert sample("creditflow_ledger_operations_total", kind="debit") == debits
    assert sample("creditflow_ledger_operations_total", kind="hold") == holds


async def test_webhook_backlog_and_its_oldest_age_come_from_the_database(app, client, clock):
    empty = scraped((await client.get("/metrics")).text)
    assert empty["creditflow_webhook_deliveries_pending"] == 0
    assert empty["creditflow_webhook_deliveries_oldest_pending_age_seconds"] == 0
    assert empty["creditflow_emails_pending"] == 0
    endpoint = {"url": "http://127.0.0.1:9/hooks", "events": ["customer.created"]}
    assert (await client.post("/v1/webhook_endpoints", json=endpoint)).status_code == 201
    await make_customer(client)
    clock.advance(minutes=5)
    backlog = scraped((await client.get("/metrics")).text)
    assert backlog["creditflow_webhook_deliveries_pending"] == 1
    assert backlog["creditflow_webhook_deliveries_oldest_pending_age_seconds"] == 300


async def test_job_runs_failures_and_durations_are_counted_per_job(app):
    runs = sample("creditflow_job_runs_total", job="webhook_delivery")
    durations = sample("creditflow_job_duration_seconds_count", job="expiry_sweep")
    await app.state.jobs.run_once()
    assert sample("creditflow_job_runs_total", job="webhook_delivery") == runs + 1
    assert sample("creditflow_job_duration_seconds_count", job="expiry_sweep") == durations + 1
    assert sample("creditflow_job_failures_total", job="expiry_sweep") == 0


async def test_the_pool_gauge_counts_checked_out_connections(app):
    idle = sample("creditflow_db_pool_connections_in_use")
    async with app.state.engine.connect():
        assert sample("creditflow_db_pool_connections_in_use") == idle + 1
    assert sample("creditflow_db_pool_connections_in_use") == idle
