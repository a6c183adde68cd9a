"""exports/csv_format.py: columns from the model, amounts as numbers, formula-looking text escaped."""

from __future__ import annotations

import csv
import io

from pydantic import BaseModel

from creditflow.exports.csv_format import CsvWriter, cell, columns_of


class Cost(BaseModel):
    amount: str
    currency: str


class Row(BaseModel):
    object: str = "row"
    id: str
    name: str | None
    amount: str
    count: int
    active: bool
    cost: Cost | None
    metadata: dict[str, str]


def test_columns_flatten_nested_models_and_drop_the_object_name() -> None:
    assert columns_of(Row) == ["id", "name", "amount", "count", "active", "cost.amount", "cost.currency", "metadata"]


def test_text_that_starts_a_formula_is_escaped_and_amounts_stay_numbers() -> None:
    for text in ("=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"):
        assert cell("name", text) == "'" + text
    assert cell("name", "Ayu") == "Ayu"
    assert str(cell("amount", "-12.50")) == "-12.50"
    assert cell("external_id", "-12") == "'-12"  # not an amount: text, escaped
    assert cell("amount", "=1") == "'=1"
    assert (cell("count", 3), cell("active", True), cell("name", None)) == (3, "true", "")
    assert cell("metadata", {"b": "=x", "a": "1"}) == '{"a":"1","b":"=x"}'


def test_rows_quote_text_and_leave_numbers_bare() -> None:
    writer = CsvWriter(Row)
    rows = [Row(id="r_1", name="=HYPERLINK()", amount="-5.00", count=2, active=False,
                cost=Cost(amount="1.5", currency="USD"), metadata={}),
            Row(id="r_2", name=None, amount="0.000001", count=0, active=True, cost=None, metadata={"k": "v"})]
    text = writer.header() + writer.rows(rows)
    lines = text.split("\r\n")
    assert lines[1] == '"r_1","\'=HYPERLINK()",-5.00,2,"false",1.5,"USD","{}"'
    assert lines[2] == '"r_2","",0.000001,0,"true","","","{""k"":""v""}"'
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert [r["amount"] for r in parsed] == ["-5.00", "0.000001"]
