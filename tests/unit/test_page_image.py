"""The page image intake stores is the one the scan prints: embedded as it is, byte for byte."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from PIL import Image
from pypdf import PdfReader

from services.intake.pages import clean_upload
from services.sorting.scan import render_handwritten_letter
from shared.page_image import MAX_SIDE_PX, is_page_jpeg, page_jpeg
from tests import hidden_pages as hidden

WRITTEN_AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def embedded_images(pdf: bytes) -> list[bytes]:
    found = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for ref in page["/Resources"]["/XObject"].values():
            found.append(ref.get_object()._data)
    return found


def test_pages_intake_stored_are_embedded_in_the_scan_unchanged():
    pages = [page.data for upload in (hidden.png_hiding_dark_pixels(), hidden.pdf_with_masked_image())
             for page in clean_upload(upload, 1)]

    scan = render_handwritten_letter(pages, WRITTEN_AT)

    assert embedded_images(scan.pdf) == pages


def test_a_page_not_in_the_page_form_is_still_cleaned_by_the_scan():
    out = io.BytesIO()
    Image.new("RGB", (3000, 1000), "white").save(out, "JPEG", exif=Image.Exif().tobytes())
    assert not is_page_jpeg(out.getvalue())

    (embedded,) = embedded_images(render_handwritten_letter([out.getvalue()], WRITTEN_AT).pdf)

    with Image.open(io.BytesIO(embedded)) as image:
        assert image.mode == "L" and max(image.size) == MAX_SIDE_PX


def test_only_a_bare_grayscale_jpeg_within_the_size_is_in_the_page_form():
    page = page_jpeg(Image.new("RGB", (400, 300), "red"))
    assert is_page_jpeg(page)
    assert not is_page_jpeg(page + b"<script>")  # something after the image
    colour = io.BytesIO()
    Image.new("RGB", (40, 30)).save(colour, "JPEG")
    assert not is_page_jpeg(colour.getvalue())
    big = io.BytesIO()
    Image.new("L", (MAX_SIDE_PX + 1, 10)).save(big, "JPEG")
    assert not is_page_jpeg(big.getvalue())
    commented = io.BytesIO()
    Image.new("L", (40, 30)).save(commented, "JPEG", comment=b"SERIAL-4242")
    assert not is_page_jpeg(commented.getvalue())
