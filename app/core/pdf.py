"""PDF documents (certificates, receipts): fpdf2 with DejaVu Sans, vendored in fonts/ because
the core PDF fonts have no ₹, no € in every viewer and no Polish or Turkish letters.

fpdf2 and segno are imported on first use: web processes that never render a PDF stay lean.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fpdf import FPDF

FONT_DIR = Path(__file__).parent / "fonts"
FONT = "DejaVu"


def new_document(title: str, *, landscape: bool = False) -> FPDF:
    """An empty A4 document in millimetres with the house font registered and selected."""
    from fpdf import FPDF

    # fontTools logs every glyph table it subsets at INFO: fifty lines per document.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    pdf.set_title(title)
    pdf.set_creator("Coursefront")
    pdf.set_author("Coursefront")
    pdf.add_font(FONT, "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_font(FONT, size=11)
    pdf.set_auto_page_break(auto=True, margin=15)
    return pdf


def draw_qr(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """A QR code of `data` as vector squares (sharp at any zoom, no image to embed), with the
    quiet zone included in `size`."""
    import segno

    code = segno.make(data, error="m", micro=False)
    matrix = [list(row) for row in code.matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, size, size, style="F")
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        col = 0
        while col < len(cells):  # one rectangle per run of dark modules: a smaller file
            if not cells[col]:
                col += 1
                continue
            start = col
            while col < len(cells) and cells[col]:
                col += 1
            pdf.rect(x + start * module, y + row * module, (col - start) * module, module, "F")


def to_bytes(pdf: FPDF) -> bytes:
    """The finished document."""
    return bytes(pdf.output())
