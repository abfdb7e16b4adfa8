"""The certificate as a PDF: landscape A4, text (not an image, so it can be searched, copied and
read aloud), a QR code to its public verification page, and that page's URL printed under it.

Imported by the render job only: fpdf2 stays out of the web processes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.core.pdf import FONT, draw_qr, new_document, to_bytes
from app.learning.certificates import long_date
from app.learning.models import Certificate

if TYPE_CHECKING:
    from fpdf import FPDF

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MARGIN = 32.0
TEXT_W = PAGE_W - 2 * MARGIN
QR_SIZE = 36.0

INK = (20, 20, 43)
INK_2 = (63, 63, 90)
MUTED = (107, 107, 133)
BRAND = (79, 70, 229)
BRAND_SOFT = (199, 196, 250)
ACCENT = (14, 165, 164)


def render_certificate_pdf(certificate: Certificate, verify_url: str, site_name: str) -> bytes:
    """The certificate's document: who completed which course, taught by whom, when, its code,
    and how to check it."""
    pdf = new_document(
        f"Certificate of completion: {certificate.student_name}, {certificate.course_title}",
        landscape=True,
    )
    pdf.set_subject(f"{site_name} certificate {certificate.code}")
    pdf.set_auto_page_break(auto=False)  # one page, whatever the lengths
    pdf.add_page()
    _frame(pdf)
    _heading(pdf, site_name)
    _body(pdf, certificate)
    _footer(pdf, certificate, verify_url)
    return to_bytes(pdf)


def _frame(pdf: FPDF) -> None:
    pdf.set_draw_color(*BRAND)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, PAGE_W - 20, PAGE_H - 20)
    pdf.set_draw_color(*BRAND_SOFT)
    pdf.set_line_width(0.3)
    pdf.rect(14, 14, PAGE_W - 28, PAGE_H - 28)


def _centred(pdf: FPDF, y: float, text: str, size: float, *, bold: bool = False) -> None:
    pdf.set_font(FONT, "B" if bold else "", size)
    pdf.set_xy(MARGIN, y)
    pdf.cell(TEXT_W, size * 0.45, text, align="C")


def _heading(pdf: FPDF, site_name: str) -> None:
    pdf.set_text_color(*BRAND)
    _centred(pdf, 28, site_name.upper(), 13, bold=True)
    pdf.set_text_color(*INK)
    _centred(pdf, 40, "Certificate of completion", 30, bold=True)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(PAGE_W / 2 - 20, 60, PAGE_W / 2 + 20, 60)


def _fitting_size(pdf: FPDF, text: str, largest: float, smallest: float) -> float:
    """The largest bold size (in whole points) at which `text` fits on one line."""
    size = largest
    while size > smallest:
        pdf.set_font(FONT, "B", size)
        if pdf.get_string_width(text) <= TEXT_W:
            break
        size -= 1
    return size


def _title_size(pdf: FPDF, title: str, largest: float, smallest: float) -> float:
    """The largest bold size at which the course title takes at most two lines."""
    size = largest
    while size > smallest:
        pdf.set_font(FONT, "B", size)
        lines = pdf.multi_cell(TEXT_W, size * 0.5, title, align="C", dry_run=True, output="LINES")
        if isinstance(lines, list) and len(lines) <= 2:
            break
        size -= 1
    return size


def _name(pdf: FPDF, name: str) -> None:
    """On one line, as large as fits; a name too long even at 16 pt takes two lines."""
    size = _fitting_size(pdf, name, 34, 16)
    if pdf.get_string_width(name) <= TEXT_W:
        _centred(pdf, 78 + (34 - size) * 0.22, name, size, bold=True)  # centred in its band
        return
    pdf.set_font(FONT, "B", 14)
    pdf.set_xy(MARGIN, 78)
    pdf.multi_cell(TEXT_W, 7, name, align="C")


def _body(pdf: FPDF, certificate: Certificate) -> None:
    pdf.set_text_color(*MUTED)
    _centred(pdf, 68, "This certifies that", 12)
    pdf.set_text_color(*INK)
    _name(pdf, certificate.student_name)
    pdf.set_text_color(*MUTED)
    _centred(pdf, 98, "has completed", 12)
    pdf.set_text_color(*BRAND)
    title_size = _title_size(pdf, certificate.course_title, 22, 12)
    pdf.set_font(FONT, "B", title_size)
    pdf.set_xy(MARGIN, 106)
    pdf.multi_cell(TEXT_W, title_size * 0.5, certificate.course_title, align="C")
    pdf.set_text_color(*INK_2)
    _centred(pdf, pdf.get_y() + 4, f"taught by {certificate.teacher_name}", 12)


def _labelled(pdf: FPDF, x: float, y: float, label: str, value: str) -> None:
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT, "", 9)
    pdf.set_xy(x, y)
    pdf.cell(90, 5, label)
    pdf.set_text_color(*INK)
    pdf.set_font(FONT, "B", 13)
    pdf.set_xy(x, y + 5.5)
    pdf.cell(90, 7, value)


def _footer(pdf: FPDF, certificate: Certificate, verify_url: str) -> None:
    _labelled(pdf, MARGIN, 146, "Date of completion", long_date(certificate.issued_at.date()))
    _labelled(pdf, MARGIN, 164, "Certificate code", certificate.code)
    qr_x, qr_y = PAGE_W - MARGIN - QR_SIZE + 4, 140.0  # the quiet zone sits inside the frame
    draw_qr(pdf, verify_url, qr_x, qr_y, QR_SIZE)
    pdf.set_text_color(*MUTED)
    pdf.set_font(FONT, "", 8)
    pdf.set_xy(qr_x, qr_y + QR_SIZE - 2)
    pdf.cell(QR_SIZE, 4, "Scan to verify", align="C")
    pdf.set_font(FONT, "", 8.5)
    pdf.set_xy(MARGIN, 186)
    pdf.cell(TEXT_W, 5, f"Verify this certificate at {verify_url}", align="C", link=verify_url)
