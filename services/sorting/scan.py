"""Renders an approved letter into the A4 PDF "scan" that delivery sends on.

A typed letter is typeset; a handwritten one becomes its photographed pages, one PDF page per
photo, upright, grayscale and stripped of every trace of the camera. Rendering is pure (bytes in,
bytes out) and deterministic, so a retried scan overwrites its object with the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image, ImageOps
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer

from services.sorting.signature import signature_line
from shared.page_image import JPEG_QUALITY, is_page_jpeg
from shared.page_image import MAX_SIDE_PX as MAX_PHOTO_SIDE_PX

if TYPE_CHECKING:
    from fpdf import FPDF
    from pypdf import PdfWriter

FONT = "letter"
A4_MM = (210.0, 297.0)
# Keys under which PDF objects carry XMP metadata, thumbnails or application data.
METADATA_KEYS = ("/Metadata", "/PieceInfo", "/Thumb")


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


# The font cut for letters, per configured font: made once per process.
_CUT_FONTS: dict[str, str] = {}


def letter_font(font_path: str, characters: Iterable[int] | None = None) -> str:
    """The configured font cut to the characters letters use, made once per process.

    The full DejaVu Sans is 741 KB; parsing and cutting it for every letter was two thirds of
    the scan's CPU time. The cut font (about 86 KB) renders the same text. The characters are
    screening's printable ones (shared/screening/printable.py); a render worker is handed them
    when it starts, so it never loads the screening engine and its language tools.
    """
    if font_path not in _CUT_FONTS:
        if characters is None:
            from shared.screening.printable import PRINTABLE_CHARACTERS as characters
        _CUT_FONTS[font_path] = _cut_font(font_path, characters)
    return _CUT_FONTS[font_path]


def _cut_font(font_path: str, characters: Iterable[int]) -> str:
    from fontTools import subset

    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    font = subset.load_font(font_path, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters)
    subsetter.subset(font)
    digest = hashlib.sha256(Path(font_path).read_bytes()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"letters-font-{digest}-{os.getpid()}.ttf"
    subset.save_font(font, str(target), options)
    return str(target)


def render_typed_letter(letter: TypedLetter, font_path: str) -> Scan:
    """Typeset with ReportLab: a fifth of fpdf2's CPU for the same page (bench/renderers.py)."""
    styles = _letter_styles(letter_font(font_path))
    out = io.BytesIO()
    # invariant: a fixed date and document id, so a re-render of the same letter is the same bytes.
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=20 * mm,
                            bottomMargin=20 * mm, title="Письмо", invariant=1)
    story: list[Flowable] = [Paragraph(_markup(f"Для: {letter.prisoner_name_ru}"), styles.small), Spacer(1, 6 * mm)]
    # Line by line as written: the writer's line breaks and empty lines stay where they were.
    story += [Paragraph(_markup(line), styles.body) if line.strip() else Spacer(1, 7 * mm)
              for line in letter.body.split("\n")]
    signature = signature_line(letter.writer_first_name, letter.writer_city)
    if signature:
        # Only a first name and a city: never anything that could expose the writer.
        story += [Spacer(1, 6 * mm), Paragraph(_markup(signature), styles.signature)]
    doc.build(story)
    return Scan(pdf=out.getvalue(), pages=doc.page)


@dataclass(frozen=True)
class _Styles:
    small: ParagraphStyle
    body: ParagraphStyle
    signature: ParagraphStyle


_STYLES: dict[str, _Styles] = {}


def _letter_styles(cut_font: str) -> _Styles:
    """The font registered and the styles made once per process: the same for every letter."""
    if cut_font not in _STYLES:
        name = f"{FONT}-{len(_STYLES)}"
        pdfmetrics.registerFont(TTFont(name, cut_font))
        small = ParagraphStyle("small", fontName=name, fontSize=11, leading=6 * mm)
        _STYLES[cut_font] = _Styles(
            small=small,
            body=ParagraphStyle("body", fontName=name, fontSize=12, leading=7 * mm),
            signature=ParagraphStyle("signature", parent=small, alignment=TA_RIGHT),
        )
    return _STYLES[cut_font]


def _markup(text: str) -> str:
    # The writer's text is text, never ReportLab markup: <, > and & print as themselves.
    return escape(text, quote=False)


def render_handwritten_letter(
    pages: Sequence[bytes], written_at: datetime, typed: TypedLetter | None = None, font_path: str = ""
) -> Scan:
    """The photographed pages in order, one PDF page per photo; a PDF page from intake stays a page.

    A typed note that came with the photos is typeset first.
    """
    # fpdf2 and pypdf (40 MB together) are loaded by the first handwritten letter, not by every
    # render worker: most letters are typed.
    from pypdf import PdfWriter

    writer = PdfWriter()
    if typed is not None and typed.body.strip():
        _append(writer, render_typed_letter(typed, font_path).pdf)
    for data in pages:
        if data.startswith(b"%PDF-"):
            _append(writer, data, clean_images=True)
        else:
            _append(writer, _photo_page(data, written_at))
    _strip_metadata(writer)
    out = io.BytesIO()
    writer.write(out)
    return Scan(pdf=out.getvalue(), pages=len(writer.pages))


def clean_photo(data: bytes) -> Image.Image:
    """Upright, grayscale, no larger than needed; what is returned has no metadata at all."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        return _bare_gray(ImageOps.exif_transpose(image))


def _bare_gray(image: Image.Image) -> Image.Image:
    gray = image.convert("L")
    gray.thumbnail((MAX_PHOTO_SIDE_PX, MAX_PHOTO_SIDE_PX))
    # A new image from the pixels alone: no EXIF, XMP, ICC profile or comment can come along.
    return Image.frombytes("L", gray.size, gray.tobytes())


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def _photo_page(data: bytes, written_at: datetime) -> bytes:
    photo = clean_photo(data)
    width_mm, height_mm = A4_MM if photo.height >= photo.width else A4_MM[::-1]
    pdf = _new_pdf(written_at)
    pdf.add_page(orientation="P" if photo.height >= photo.width else "L")
    scale = min(width_mm / photo.width, height_mm / photo.height)
    w, h = photo.width * scale, photo.height * scale
    # fpdf2 embeds the JPEG stream as it is (DCTDecode). A page intake flattened is embedded
    # untouched, so the scan prints the very pixels the moderator saw; only a page stored
    # before intake flattened pages is cleaned here.
    jpeg = data if is_page_jpeg(data) else _jpeg(photo)
    pdf.image(io.BytesIO(jpeg), x=(width_mm - w) / 2, y=(height_mm - h) / 2, w=w, h=h)
    return bytes(pdf.output())


def _new_pdf(written_at: datetime) -> FPDF:
    from fpdf import FPDF

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(20, 20, 20)
    pdf.set_auto_page_break(auto=True, margin=20)
    # A fixed creation date makes a re-render of the same letter produce the same bytes.
    pdf.set_creation_date(written_at)
    return pdf


def _append(writer: PdfWriter, pdf: bytes, *, clean_images: bool = False) -> None:
    from pypdf import PdfReader

    first = len(writer.pages)
    for page in PdfReader(io.BytesIO(pdf)).pages:
        writer.add_page(page)
    if clean_images:
        for page in writer.pages[first:]:
            for image in page.images:
                # Re-encoded from pixels: whatever the scanner or camera wrote into the image is gone.
                image.replace(_bare_gray(image.image), quality=JPEG_QUALITY)


def _strip_metadata(writer: PdfWriter) -> None:
    from pypdf.generic import NameObject

    for key in METADATA_KEYS:
        writer.root_object.pop(NameObject(key), None)
    for page in writer.pages:
        for key in METADATA_KEYS:
            page.pop(NameObject(key), None)
        resources = page.get("/Resources")
        xobjects = resources.get_object().get("/XObject") if resources else None
        for ref in (xobjects.get_object().values() if xobjects else ()):
            xobject = ref.get_object()
            for key in METADATA_KEYS:
                xobject.pop(NameObject(key), None)
