"""The Lago flow in raw HTTP, from recorded request bodies (tests/lago/fixtures/lago_flow.json): every answer
carries each field lago-python-client 1.55 requires, and every figure is exact."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx

FLOW = json.loads((Path(__file__).parent / "fixtures" / "lago_flow.json").read_text())
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


def _fill(value: Any, saved: dict[str, str]) -> Any:
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: saved.get(m.group(1), m.group(0)), value)
    if isinstance(value, list):
        return [_fill(v, saved) for v in value]
    if isinstance(value, dict):
        return {k: _fill(v, saved) for k, v in value.items()}
    return value


def _has_required(obj: dict[str, Any], root: str, step: str) -> None:
    """Present and, except in list meta (next_page and prev_page are null at the ends), not null."""
    missing = [field for field in FLOW["required"][root]
               if field not in obj or (obj[field] is None and root != "meta")]
    assert not missing, f"{step}: {root} lacks {missing}"


def _check_nested(root: str, obj: dict[str, Any], step: str) -> None:
    _has_required(obj, root, step)
    if root == "plan":
        for charge in obj["charges"]:
            _has_required(charge, "charge", step)
    if root == "customer_usage":
        for usage in obj["charges_usage"]:
            _has_required(usage, "charge_usage", step)


async def _run(client: httpx.AsyncClient, step: dict[str, Any], saved: dict[str, str]) -> None:
    name = step["name"]
    answer = await client.request(step["method"], _fill(step["path"], saved), json=_fill(step.get("body"), saved))
    assert answer.status_code == step["status"], f"{name}: {answer.status_code} {answer.text}"
    body = answer.json()
    if step["status"] >= 400:
        _has_required(body, "error", name)
        obj = body
    elif step.get("list_root"):
        items = body[step["list_root"]]
        for item in items:
            _check_nested(step["items"], item, name)
        if step.get("meta"):
            _has_required(body["meta"], "meta", name)
            assert body["meta"] == step["expect_meta"], name
        for key, field in step.get("save_first", {}).items():
            saved[key] = items[0][field]
        for key, expected in _fill(step.get("expect_first", {}), saved).items():
            assert items[0][key] == expected, f"{name}: {key}"
        obj = body
    else:
        obj = body[step["root"]]
        _check_nested(step["root"], obj, name)
    for key, field in step.get("save", {}).items():
        saved[key] = obj[field]
    for key, expected in _fill(step.get("expect", {}), saved).items():
        assert obj[key] == expected, f"{name}: {key} is {obj[key]!r}, not {expected!r}"
    if step.get("then_wallet"):
        wallet = (await client.get(f"/api/v1/wallets/{saved['wallet_id']}")).json()["wallet"]
        _has_required(wallet, "wallet", name)
        shown = {key: wallet[key] for key in step["then_wallet"]}
        assert shown == step["then_wallet"], f"{name}: wallet {shown}"


async def test_the_recorded_lago_flow_answers_every_required_field_with_exact_figures(client) -> None:
    saved: dict[str, str] = {}
    for step in FLOW["steps"]:
        await _run(client, step, saved)
