"""Issue 11: a bounded schemathesis run over every /v1 operation gives no server error, no answer outside
its documented schema, and leaves the ledger consistent (`creditflow check`), on both engines."""

from __future__ import annotations

import asyncio

from creditflow.app import create_app
from creditflow.clock import ManualClock
from creditflow.config import Settings
from tests.fuzz.runner import run_fuzz

CASES_PER_OPERATION = 8


def test_generated_requests_to_every_v1_operation_get_no_500_no_schema_mismatch_and_a_clean_check(
    settings: Settings,
) -> None:
    loop = asyncio.new_event_loop()
    app = create_app(settings, clock=ManualClock())
    try:
        report = run_fuzz(app, loop, CASES_PER_OPERATION)
    finally:
        loop.run_until_complete(app.state.debit_committer.stop())
        loop.run_until_complete(app.state.engine.dispose())
        loop.close()
    assert report.cases >= 80 * CASES_PER_OPERATION // 2
    assert report.failures == [], "\n\n".join(report.failures[:10])
    assert report.discrepancies == []
