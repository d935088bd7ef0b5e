"""Renders a typed letter into the one-page A4 PDF "scan" that delivery sends on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fpdf import FPDF

FONT = "letter"


@dataclass(frozen=True)
class TypedLetter:
    prisoner_name_ru: str
    body: str
    writer_first_name: str | None
    writer_city: str | None
    written_at: datetime


@dataclass(frozen=True)
class Scan:
    pdf: bytes
    pages: int


def render_typed_letter(letter: TypedLetter, font_path: str) -> Scan:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    # A fixed creation date makes a re-render of the same letter produce the same bytes.
    pdf.set_creation_date(letter.written_at)
    pdf.set_title("Письмо")
    pdf.add_font(FONT, fname=font_path)
    pdf.add_page()
    pdf.set_font(FONT, size=11)
    pdf.multi_cell(0, 6, f"Для: {letter.prisoner_name_ru}")
    pdf.ln(6)
    pdf.set_font(FONT, size=12)
    pdf.multi_cell(0, 7, letter.body)
    signature = ", ".join(part for part in (letter.writer_first_name, letter.writer_city) if part)
    if signature:
        pdf.ln(6)
        pdf.set_font(FONT, size=11)
        # Only a first name and a city: never anything that could expose the writer.
        pdf.multi_cell(0, 6, signature, align="R")
    return Scan(pdf=bytes(pdf.output()), pages=pdf.page_no())
