"""An invoice as a PDF (fpdf2), drawn only from what the invoice itself stores: a re-rendered issued
invoice shows the seller, buyer, number and amounts it was issued with, whatever changed since."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from creditflow.invoices.models import DRAFT, PAID, VOID, Invoice
from creditflow.invoices.totals import format_minor, rate_text

_MARGIN = 18.0
_LINE = 5.5
_AMOUNT_WIDTH = 45.0
_STAMPS = {DRAFT: "DRAFT", PAID: "PAID", VOID: "VOID"}


_ENCODING = "windows-1252"


def _printable(text: str) -> str:
    # The built-in PDF fonts cover Windows-1252 (Latin, the euro sign, dashes and quotes); anything beyond it
    # prints as '?' rather than failing the render.
    return text.encode(_ENCODING, "replace").decode(_ENCODING)


def _money(minor: int, currency: str) -> str:
    """'1234567.50' -> '1,234,567.50': grouped for reading, the same digits as the API."""
    text = format_minor(minor, currency)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, dot, fraction = text.partition(".")
    return f"{sign}{int(whole):,}{dot}{fraction}"


def _date(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()


class _Document(FPDF):
    label = ""

    def footer(self) -> None:
        # Every page names its invoice, so a loose page of a long invoice still says where it belongs.
        self.set_y(-12)
        self.set_font("Helvetica", "", 8)
        self.cell(0, 5, f"{self.label} - page {self.page_no()} of {{nb}}", align="R")

    def block(self, x: float, width: float, heading: str, rows: list[str]) -> float:
        """A titled block of text at (x, current y); returns the y where it ends."""
        self.set_xy(x, self.get_y())
        self.set_font("Helvetica", "B", 9)
        self.cell(width, _LINE, _printable(heading), new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font("Helvetica", "", 10)
        for row in rows:
            self.set_x(x)
            self.multi_cell(width, _LINE, _printable(row), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        return self.get_y()

    def amount_row(self, label: str, amount: str, *, bold: bool = False) -> None:
        self.set_font("Helvetica", "B" if bold else "", 10)
        label_width = self.epw - _AMOUNT_WIDTH
        self.cell(label_width, _LINE + 1, _printable(label), align="R")
        self.cell(_AMOUNT_WIDTH, _LINE + 1, amount, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _header(pdf: _Document, invoice: Invoice, timezone: str) -> None:
    pdf.set_font("Helvetica", "B", 20)
    pdf.cell(pdf.epw / 2, 10, "Invoice")
    stamp = _STAMPS.get(invoice.status, "")
    pdf.cell(pdf.epw / 2, 10, stamp, align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    facts = [("Invoice number", invoice.number or "not issued yet")]
    if invoice.finalized_at is not None:
        facts.append(("Date of issue", _date(invoice.finalized_at, timezone)))
    if invoice.paid_at is not None:
        paid = _date(invoice.paid_at, timezone)
        if invoice.paid_via:
            paid += f" via {invoice.paid_via}"
        if invoice.payment_reference:
            paid += f" ({invoice.payment_reference})"
        facts.append(("Paid", paid))
    if invoice.voided_at is not None:
        facts.append(("Voided", _date(invoice.voided_at, timezone)))
    for label, value in facts:
        pdf.cell(40, _LINE, label)
        pdf.cell(0, _LINE, _printable(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _parties(pdf: _Document, invoice: Invoice) -> None:
    seller, buyer = invoice.seller, invoice.buyer
    seller_rows: list[str] = []
    if seller is not None:
        seller_rows = [r for r in (seller.name, seller.address, seller.email) if r]
        if seller.tax_id:
            seller_rows.append(f"Tax ID: {seller.tax_id}")
    if buyer is not None:
        buyer_rows = [r for r in (buyer.name, buyer.email) if r] + [f"Customer: {buyer.external_id}"]
    else:
        buyer_rows = [f"Customer: {invoice.customer_id}"]
    top, half = pdf.get_y(), pdf.epw / 2
    ends = [pdf.block(pdf.l_margin, half - 5, "From", seller_rows)]
    pdf.set_y(top)
    ends.append(pdf.block(pdf.l_margin + half, half, "Bill to", buyer_rows))
    pdf.set_xy(pdf.l_margin, max(ends) + 8)


def _lines(pdf: _Document, invoice: Invoice) -> None:
    currency = invoice.currency
    description_width = pdf.epw - _AMOUNT_WIDTH
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(description_width, _LINE + 2, "Description", border="B")
    pdf.cell(_AMOUNT_WIDTH, _LINE + 2, f"Amount ({currency})", border="B", align="R",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    for line in invoice.lines:
        text = _printable(line.description)
        # A long description wraps: the row is as tall as its wrapped text, kept whole on one page.
        wrapped = pdf.multi_cell(description_width, _LINE + 1, text, align="L", dry_run=True, output="LINES")
        height = len(wrapped) * (_LINE + 1)
        if pdf.will_page_break(height):
            pdf.add_page()
        top = pdf.get_y()
        pdf.multi_cell(description_width, _LINE + 1, text, align="L", new_x=XPos.RIGHT, new_y=YPos.TOP)
        pdf.cell(_AMOUNT_WIDTH, _LINE + 1, _money(line.amount, currency), align="R")
        pdf.set_xy(pdf.l_margin, top + height)
    # The totals stay together on one page, under the line that closes the list.
    if pdf.will_page_break(4 + (len(invoice.tax_lines) + 2) * (_LINE + 1)):
        pdf.add_page()
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + pdf.epw, pdf.get_y())
    pdf.ln(2)
    pdf.amount_row("Subtotal", _money(invoice.subtotal, currency))
    for tax in invoice.tax_lines:
        label = f"{tax.name} {rate_text(tax.rate_percent)}%" + (" (included)" if tax.inclusive else "")
        pdf.amount_row(label, _money(tax.amount, currency))
    pdf.amount_row(f"Total ({currency})", _money(invoice.total, currency), bold=True)


def render_invoice(invoice: Invoice) -> bytes:
    timezone = invoice.seller.timezone if invoice.seller else "UTC"
    pdf = _Document(format="A4")
    pdf.core_fonts_encoding = _ENCODING
    pdf.set_margins(_MARGIN, _MARGIN, _MARGIN)
    pdf.set_auto_page_break(auto=True, margin=_MARGIN)
    # Fixed metadata: the same invoice renders to the same document every time.
    pdf.set_creation_date(invoice.finalized_at or invoice.created_at)
    pdf.label = _printable(f"Invoice {invoice.number}" if invoice.number else f"Draft invoice {invoice.id}")
    pdf.set_title(pdf.label)
    pdf.set_creator("creditflow")
    pdf.add_page()
    _header(pdf, invoice, timezone)
    _parties(pdf, invoice)
    _lines(pdf, invoice)
    if invoice.description:
        pdf.ln(6)
        pdf.set_font("Helvetica", "", 9)
        pdf.multi_cell(0, _LINE, _printable(invoice.description), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
