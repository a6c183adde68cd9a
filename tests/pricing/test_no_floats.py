"""The pricing package computes with ints only: no float name and no fractional literal in its code."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import creditflow.pricing

PACKAGE = Path(creditflow.pricing.__file__).parent


def code_tokens():
    for path in sorted(PACKAGE.glob("*.py")):
        for token in tokenize.generate_tokens(io.StringIO(path.read_text()).readline):
            yield path.name, token


def test_pricing_code_never_names_float():
    offenders = [(name, t.start[0]) for name, t in code_tokens() if t.type == tokenize.NAME and t.string == "float"]
    assert offenders == []


def test_pricing_code_has_no_fractional_number_literals():
    offenders = [
        (name, t.start[0], t.string)
        for name, t in code_tokens()
        if t.type == tokenize.NUMBER and any(mark in t.string.lower() for mark in (".", "e", "j"))
        and not t.string.lower().startswith("0x")
    ]
    assert offenders == []


def test_pricing_package_has_modules_to_check():
    assert {"models.py", "specs.py", "tiers.py", "validation.py"} <= {p.name for p in PACKAGE.glob("*.py")}
