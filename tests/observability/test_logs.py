"""Structured logs (CREDITFLOW_LOG_FORMAT=json), and no secret in any log line."""

from __future__ import annotations

import json
import logging
import sys

import httpx

from creditflow.observability.logs import JSONFormatter, RequestIdFilter, logging_config, request_id
from tests.factories import make_api_key, make_customer


def test_json_lines_carry_time_level_logger_request_id_message_and_exception():
    token = request_id.set("req-9")
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("creditflow.x").makeRecord(
            "creditflow.x", logging.ERROR, __file__, 1, "failed %s", ("twice",), exc_info=sys.exc_info()
        )
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    document = json.loads(JSONFormatter().format(record))
    assert document["request_id"] == "req-9"
    assert {k: document[k] for k in ("level", "logger", "message")} == {
        "level": "ERROR", "logger": "creditflow.x", "message": "failed twice"
    }
    assert "ValueError: boom" in document["exception"] and document["time"].endswith("+00:00")


def test_the_logging_config_routes_uvicorn_through_one_formatted_handler():
    text = logging_config("text")
    as_json = logging_config("json", "WARNING")
    assert "%(request_id)s" in text["formatters"]["default"]["format"]
    assert as_json["formatters"]["default"]["()"].endswith("JSONFormatter")
    assert as_json["root"]["level"] == "WARNING"
    assert all(as_json["loggers"][name]["propagate"] for name in ("uvicorn", "uvicorn.access"))
    assert as_json["loggers"]["sqlalchemy.engine"]["level"] == "WARNING"


async def test_no_secret_reaches_any_log_line(app, client, operator_key, caplog):
    """At DEBUG, with the production logging config's logger levels."""
    for name, config in logging_config("json", "DEBUG")["loggers"].items():
        if "level" in config:
            caplog.set_level(config["level"], logger=name)
    caplog.set_level(logging.DEBUG)
    customer = await make_customer(client, email="buyer@example.com")
    customer_key = (await make_api_key(client, customer["id"]))["key"]
    endpoint = {"url": "http://127.0.0.1:9/h", "events": ["customer.created"]}
    hook = await client.post("/v1/webhook_endpoints", json=endpoint)
    webhook_secret = hook.json()["secret"]
    await client.post("/v1/api_keys/verify", json={"key": customer_key})
    await client.post("/v1/api_keys/verify", json={"key": customer_key + "x"})
    wrong = "cf_sk_" + "0" * 40
    await client.get("/v1/customers", headers={"Authorization": f"Bearer {wrong}"})
    await client.post("/v1/debits", json={"customer": customer["id"], "amount": "1"},
                      headers={"Authorization": f"Bearer {wrong}"})
    await app.state.jobs.run_once()
    anonymous = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    async with anonymous:
        await anonymous.get("/metrics", headers={"Authorization": f"Bearer {wrong}"})
    logged = "\n".join(
        f"{r.getMessage()} {r.exc_text or ''} {r.args!r}" for r in caplog.records
    )
    for secret in (operator_key, customer_key, webhook_secret, wrong):
        assert secret not in logged
