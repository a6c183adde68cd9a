"""A monthly statement as a PDF (fpdf2): per wallet, the opening balance, the month's movements and the closing
balance, the same figures as the JSON statement; then the usage by metric."""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from creditflow import money
from creditflow.statements.service import Statement

_LINE = 6.0
_AMOUNT_WIDTH = 50.0


def _amount(micros: int, unit: str) -> str:
    text = money.format(micros, unit)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = text.partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction} {unit}"


def _row(pdf: FPDF, label: str, amount: str, *, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 10)
    pdf.cell(pdf.epw - _AMOUNT_WIDTH, _LINE, label)
    pdf.cell(_AMOUNT_WIDTH, _LINE, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_statement(statement: Statement, customer_label: str) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, f"Statement {statement.month}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    label = customer_label.encode("windows-1252", "replace").decode("windows-1252")
    pdf.cell(0, _LINE, f"{label} - {statement.timezone}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for wallet in statement.wallets:
        pdf.ln(4)
        _row(pdf, f"Wallet {wallet.unit}: opening balance", _amount(wallet.opening, wallet.unit), bold=True)
        for name, amount in wallet.movements.items():
            if amount:
                _row(pdf, f"    {name.replace('_', ' ').capitalize()}", _amount(amount, wallet.unit))
        _row(pdf, "Closing balance", _amount(wallet.closing, wallet.unit), bold=True)
    if statement.usage_by_metric:
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(0, _LINE, "Usage by metric", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for code, currency, events, cost in statement.usage_by_metric:
            _row(pdf, f"    {code} ({events} events)", _amount(cost, currency))
    return bytes(pdf.output())
