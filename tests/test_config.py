"""Settings: the README's configuration table documents every field with its real default; `.env` is read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from creditflow.config import Settings

README = Path(__file__).resolve().parents[1] / "README.md"
_CODE = re.compile(r"`([^`]*)`")


def _table_rows() -> list[tuple[str, str]]:
    """(variables cell, default cell) of each row of the README's Configuration table."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split(" | ")]
        if line.startswith("| `CREDITFLOW_"):
            rows.append((cells[0], cells[1]))
    return rows


_FIELDS = {"CREDITFLOW_" + name.upper() for name in Settings.model_fields}


def _names(cell: str) -> list[str]:
    """`CREDITFLOW_SMTP_HOST` / `_PORT` names CREDITFLOW_SMTP_HOST and CREDITFLOW_SMTP_PORT; `_ISSUER` after
    `CREDITFLOW_PORTAL_JWT_JWKS_URL` is the CREDITFLOW_PORTAL_* setting ending in it (PORTAL_JWT_ISSUER)."""
    names: list[str] = []
    for code in _CODE.findall(cell):
        if code.startswith("_"):
            prefix = "_".join(names[-1].split("_")[:2])
            found = [f for f in _FIELDS if f.startswith(prefix + "_") and f.endswith(code)]
            names.append(found[0] if len(found) == 1 else prefix + code)
        else:
            names.append(code)
    return names


def _documented() -> dict[str, str]:
    """Each variable and its default cell (a row naming several splits its defaults by ' / ' when they match)."""
    documented: dict[str, str] = {}
    for names_cell, default_cell in _table_rows():
        names = _names(names_cell)
        defaults = default_cell.split(" / ")
        if len(defaults) != len(names):
            defaults = [default_cell] * len(names)
        documented.update(zip(names, defaults, strict=True))
    return documented


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def test_the_readme_documents_every_setting_and_nothing_else():
    assert set(_documented()) == _FIELDS


def test_each_documented_default_is_the_settings_default():
    defaults = Settings.model_construct()
    for variable, cell in _documented().items():
        value = getattr(defaults, variable.removeprefix("CREDITFLOW_").lower())
        literal = _CODE.fullmatch(cell)
        if literal:
            assert literal.group(1) == _shown(value), variable
        else:
            # "unset", or a default worked out at run time ("derived from the database URL", an empty locale
            # meaning the currency's own), or a structure the table describes in words (the top-up rules).
            assert value in (None, "") or isinstance(value, dict), (variable, cell)


def test_settings_load_from_a_dotenv_file_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CREDITFLOW_DEFAULT_CURRENCY", raising=False)
    monkeypatch.setenv("CREDITFLOW_PORT", "9100")
    (tmp_path / ".env").write_text(
        "CREDITFLOW_DEFAULT_CURRENCY=inr\nCREDITFLOW_PORT=9000\n"
        'CREDITFLOW_LOW_BALANCE_THRESHOLDS={"IDR": "10000"}\nSOMETHING_ELSE=ignored\n'
    )
    settings = Settings()
    assert settings.default_currency == "INR"
    assert settings.port == 9100, "the environment wins over the file"
    assert settings.low_balance_thresholds == {"IDR": 10_000_000_000}


def test_a_low_balance_threshold_must_be_a_positive_amount_of_a_unit():
    with pytest.raises(ValidationError):
        Settings(_env_file=None, low_balance_thresholds={"INR": "0"})
    with pytest.raises(ValidationError):
        Settings(_env_file=None, low_balance_thresholds={"not a unit": "5"})
