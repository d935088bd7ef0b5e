"""The scans: a typed letter's A4 page with every letter intact and no contact data; a handwritten
letter's photos upright, grayscale, compact and without a trace of the camera."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from fpdf import FPDF
from pypdf import PdfReader

from services.sorting.scan import (
    MAX_PHOTO_SIDE_PX,
    TypedLetter,
    render_handwritten_letter,
    render_typed_letter,
)
from tests.support import squash
from tests.unit.sorting.conftest import page_photo

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def make_letter(**overrides) -> TypedLetter:
    facts = {
        "prisoner_name_ru": "Эдем Ёлкин",
        "body": "Здравствуйте! Йогурт, ёлка, чабрец. Селям алейкум, Şükrü, Çağrı, Ğani, Iıñ, Ömer, Ümmü.",
        "writer_first_name": "Ayşe",
        "writer_city": "Полтава",
        "written_at": datetime(2026, 11, 29, tzinfo=UTC),
    }
    return TypedLetter(**{**facts, **overrides})


def test_scan_text_equals_the_letter_with_every_letter_intact():
    letter = make_letter()
    scan = render_typed_letter(letter, FONT)
    reader = PdfReader(io.BytesIO(scan.pdf))
    text = squash(reader.pages[0].extract_text())
    assert squash(letter.body) in text
    assert "Эдем Ёлкин" in text and "Ayşe, Полтава" in text
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4 in points


def test_rendering_the_same_letter_twice_gives_the_same_bytes():
    assert render_typed_letter(make_letter(), FONT).pdf == render_typed_letter(make_letter(), FONT).pdf




# --- handwritten letters -------------------------------------------------------------------------

WRITTEN_AT = datetime(2026, 11, 29, tzinfo=UTC)


def embedded_images(pdf: bytes) -> list[tuple[dict, bytes]]:
    """Every image XObject as stored in the PDF: its dictionary and its raw stream."""
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"].get("/XObject", {}).values():
            xobject = ref.get_object()
            found.append((dict(xobject), xobject._data))
    return found


def test_handwritten_letter_becomes_one_grayscale_page_per_photo_without_camera_metadata():
    photos = [page_photo(n) for n in range(1, 4)]
    assert all(b"Exif" in photo for photo in photos)

    scan = render_handwritten_letter(photos, WRITTEN_AT)

    reader = PdfReader(io.BytesIO(scan.pdf))
    assert scan.pages == len(reader.pages) == 3
    images = embedded_images(scan.pdf)
    assert len(images) == 3
    for xobject, stream in images:
        assert xobject["/ColorSpace"] == "/DeviceGray" and xobject["/Filter"] == "/DCTDecode"
        assert "/Metadata" not in xobject
        assert b"Exif" not in stream and b"http://ns.adobe.com/xap" not in stream and b"PhoneMaker" not in stream
    for page in reader.pages:
        for image in page.images:
            assert image.image.mode == "L" and "exif" not in image.image.info and "xmp" not in image.image.info
    assert b"PhoneMaker" not in scan.pdf and b"lat 45.0" not in scan.pdf


def test_photo_taken_sideways_is_turned_upright():
    # Stored 1200×900 landscape pixels with "rotate 90°" in EXIF: a portrait page once applied.
    scan = render_handwritten_letter([page_photo(1, size=(1200, 900), exif_orientation=6)], WRITTEN_AT)

    ((xobject, _),) = embedded_images(scan.pdf)
    assert (xobject["/Width"], xobject["/Height"]) == (900, 1200)
    box = PdfReader(io.BytesIO(scan.pdf)).pages[0].mediabox
    assert round(float(box.width)) < round(float(box.height))


def test_big_photo_is_made_compact():
    scan = render_handwritten_letter([page_photo(1, size=(3000, 4000))], WRITTEN_AT)

    ((xobject, _),) = embedded_images(scan.pdf)
    assert max(xobject["/Width"], xobject["/Height"]) == MAX_PHOTO_SIDE_PX


def test_pdf_page_from_intake_stays_a_page_and_its_images_are_cleaned():
    colour_photo = page_photo(9, color=(200, 40, 40))
    source = FPDF()
    source.add_page()
    source.image(io.BytesIO(colour_photo), x=10, y=10, w=150)
    source.add_page()
    source.set_font("helvetica")
    source.cell(0, 10, "second page of a scanned letter")
    intake_pdf = bytes(source.output())
    assert b"PhoneMaker" in intake_pdf

    scan = render_handwritten_letter([page_photo(1), intake_pdf, page_photo(3)], WRITTEN_AT)

    assert scan.pages == 4
    assert b"PhoneMaker" not in scan.pdf
    for xobject, stream in embedded_images(scan.pdf):
        if xobject.get("/Subtype") == "/Image":
            assert xobject["/ColorSpace"] == "/DeviceGray" and b"Exif" not in stream
    assert "second page of a scanned letter" in PdfReader(io.BytesIO(scan.pdf)).pages[2].extract_text()


def test_typed_note_that_came_with_the_photos_is_typeset_first():
    scan = render_handwritten_letter([page_photo(1)], WRITTEN_AT, typed=make_letter(body="Пара слов от руки."),
                                     font_path=FONT)

    reader = PdfReader(io.BytesIO(scan.pdf))
    assert scan.pages == 2 and "Пара слов от руки." in reader.pages[0].extract_text()


def test_rendering_the_same_handwritten_letter_twice_gives_the_same_bytes():
    photos = [page_photo(1), page_photo(2)]
    assert render_handwritten_letter(photos, WRITTEN_AT).pdf == render_handwritten_letter(photos, WRITTEN_AT).pdf


def test_markup_like_text_prints_as_written_and_a_word_longer_than_a_line_is_broken_not_cut():
    body = "Я <b>не</b> пишу & не <font size=40>шучу</font>.\n\n" + "ааааааааааёёёёёёёёёёйййййййййй" * 8
    scan = render_typed_letter(make_letter(body=body), FONT)
    text = "".join(squash(page.extract_text()) for page in PdfReader(io.BytesIO(scan.pdf)).pages)
    assert "Я <b>не</b> пишу & не <font size=40>шучу</font>." in text
    assert body.split("\n\n")[1] in text.replace(" ", "")
