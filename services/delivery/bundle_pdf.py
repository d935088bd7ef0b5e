"""A bundle as the intermediary receives it: one PDF (a cover page, then each letter's scan) and a manifest.

Pure: bytes in, bytes out. The scans already carry only a writer's first name and city; the
cover and the manifest add nothing about writers at all, only ids, checksums and page numbers.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

FONT = "cover"
MANIFEST_VERSION = 1


@dataclass(frozen=True)
class ScanFile:
    letter_id: str
    data: bytes


@dataclass(frozen=True)
class ManifestEntry:
    letter_id: str
    sha256: str
    pages: int
    first_page: int  # 1-based page of the bundle PDF where the letter starts


@dataclass(frozen=True)
class AssembledBundle:
    pdf: bytes
    pages: int
    entries: list[ManifestEntry]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.pdf).hexdigest()


class UnreadableScan(ValueError):
    """A stored scan is not a PDF we can read: the letter cannot go out as it is."""


def render_cover(prisoner_name_ru: str, letters: int, letter_pages: int, made_at: datetime, bundle_id: str,
                 font_path: str) -> bytes:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(25, 30, 25)
    # A fixed creation date: rebuilding an interrupted bundle gives the same cover.
    pdf.set_creation_date(made_at)
    pdf.set_title("Письма")
    pdf.add_font(FONT, fname=font_path)
    pdf.add_page()
    pdf.set_font(FONT, size=20)
    pdf.multi_cell(0, 11, f"Письма для: {prisoner_name_ru}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)
    pdf.set_font(FONT, size=13)
    for line in (
        f"Количество писем: {letters}",
        f"Страниц с письмами: {letter_pages}",
        f"Дата: {made_at:%d.%m.%Y}",
    ):
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(10)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(0, 5, f"Пакет {bundle_id}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def page_count(data: bytes) -> int:
    try:
        return len(PdfReader(io.BytesIO(data)).pages)
    except Exception as error:  # pypdf raises many kinds for a damaged file
        raise UnreadableScan(str(error)) from error


def assemble(cover: bytes, scans: list[ScanFile]) -> AssembledBundle:
    """Cover first, then every scan in the given order; the manifest says where each letter starts."""
    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(cover)))
    entries = []
    for scan in scans:
        first_page = len(writer.pages) + 1
        try:
            writer.append(PdfReader(io.BytesIO(scan.data)))
        except Exception as error:
            raise UnreadableScan(f"{scan.letter_id}: {error}") from error
        pages = len(writer.pages) - first_page + 1
        entries.append(ManifestEntry(scan.letter_id, hashlib.sha256(scan.data).hexdigest(), pages, first_page))
    # Nothing of the scans' own document information (producer, author) is carried over.
    writer.add_metadata({"/Title": "Письма", "/Producer": "delivery"})
    buffer = io.BytesIO()
    writer.write(buffer)
    return AssembledBundle(buffer.getvalue(), len(writer.pages), entries)


def manifest(bundle_id: str, prisoner_id: str, intermediary_id: str | None, made_at: datetime,
             bundle: AssembledBundle) -> dict[str, Any]:
    """What is in the bundle, for checking it: ids, checksums and pages; never a writer's contact data."""
    return {
        "manifest_version": MANIFEST_VERSION,
        "bundle_id": bundle_id,
        "prisoner_id": prisoner_id,
        "intermediary_id": intermediary_id,
        "made_at": made_at.isoformat(),
        "pdf_sha256": bundle.sha256,
        "pages": bundle.pages,
        "letters": [
            {"letter_id": e.letter_id, "sha256": e.sha256, "pages": e.pages, "first_page": e.first_page}
            for e in bundle.entries
        ],
    }


def bundle_files(font_path: str, prisoner_name_ru: str, bundle_id: str, prisoner_id: str,
                 intermediary_id: str | None, made_at: datetime,
                 scans: list[ScanFile]) -> tuple[AssembledBundle, bytes]:
    """The bundle's PDF (cover, then the scans) and its manifest as JSON: every bundle is made so."""
    letter_pages = sum(page_count(scan.data) for scan in scans)
    cover = render_cover(prisoner_name_ru, len(scans), letter_pages, made_at, bundle_id, font_path)
    assembled = assemble(cover, scans)
    listing = manifest(bundle_id, prisoner_id, intermediary_id, made_at, assembled)
    return assembled, json.dumps(listing, ensure_ascii=False, indent=2).encode()
