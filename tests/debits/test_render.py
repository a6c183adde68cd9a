"""The hot path renders debits without pydantic; the document must be exactly DebitOut's."""

import json
from datetime import UTC, datetime

from creditflow.debits.endpoints import render_debit
from creditflow.debits.schemas import DebitOut
from creditflow.ledger.models import DebitResult, Draw, WalletState


def _result(**overrides) -> DebitResult:
    wallet = WalletState("wal_1", "cus_1", "USD", 5_000_000, -1_250_000, 300_000, "ovd_1", None)
    fields = dict(
        id="op_1", customer_id="cus_1", unit="USD", amount=2_500_001, refunded=0,
        drawn=[Draw("grt_1", 1_250_001), Draw("ovd_1", 1_250_000)], wallet=wallet, description="calls",
        metadata={"k": "v"}, created_at=datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC),
    )
    fields.update(overrides)
    return DebitResult(**fields)


def test_rendered_debit_is_the_debitout_document():
    result = _result()
    rendered = json.loads(render_debit(result).body)
    assert rendered == json.loads(DebitOut.of(result).model_dump_json())


def test_rendered_debit_in_a_credit_unit_without_description_is_the_debitout_document():
    wallet = WalletState("wal_2", "cus_1", "CREDITS", 0, 7_000_000, 0, "ovd_2", None)
    result = _result(unit="CREDITS", wallet=wallet, description=None, metadata={}, drawn=[Draw("grt_9", 7)])
    rendered = json.loads(render_debit(result).body)
    assert rendered == json.loads(DebitOut.of(result).model_dump_json())
    assert rendered["amount"] == "2.500001"
