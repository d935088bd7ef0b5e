"""Photographed pages: what is accepted, what is refused, and what is stripped.

How pages are flattened into the one image both viewers get: test_flattening.py."""

from __future__ import annotations

import io
import time

import pytest
from PIL import Image

from services.intake.pages import MAX_PAGE_BYTES, PageRejected, clean_upload, sniff
from tests.support import handmade_pdf, photo_with_gps


def test_photo_is_turned_upright_and_stored_without_exif():
    (page,) = clean_upload(photo_with_gps(), 1)
    with Image.open(io.BytesIO(page.data)) as stored:
        assert stored.size == (20, 40)
        assert not stored.getexif()
        assert "exif" not in stored.info and "xmp" not in stored.info
    assert page.content_type == "image/jpeg"


def test_png_decoding_to_hundreds_of_megapixels_is_refused_quickly():
    # 20000×20000 declared in the header: a decompression bomb.
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")
    started = time.perf_counter()
    with pytest.raises(PageRejected) as refused:
        clean_upload(bomb.getvalue(), 1)
    assert refused.value.status == 422
    assert time.perf_counter() - started < 1.0


@pytest.mark.parametrize(
    "data",
    [b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", b"<html><script>x</script>",
     b"#!/bin/sh\nrm -rf /", b"GIF89a..."],
)
def test_files_that_are_not_photos_are_refused_whatever_their_name(data):
    with pytest.raises(PageRejected) as refused:
        clean_upload(data, 2)
    assert refused.value.status == 415
    assert "page 2" in refused.value.message


def test_truncated_jpeg_is_refused_as_damaged():
    with pytest.raises(PageRejected) as refused:
        clean_upload(photo_with_gps()[:200], 1)
    assert refused.value.status == 422


def test_page_over_ten_megabytes_is_refused_as_too_large():
    with pytest.raises(PageRejected) as refused:
        clean_upload(b"\xff\xd8\xff" + b"0" * MAX_PAGE_BYTES, 1)
    assert refused.value.status == 413


def test_pdf_with_javascript_is_refused():
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >> endobj\n%%EOF"
    with pytest.raises(PageRejected) as refused:
        clean_upload(pdf, 1)
    assert refused.value.status == 422


@pytest.mark.parametrize("page_extra", [
    b"/A#41 << /O << /S /J#61vaScript /J#53 (app.alert\\(1\\)) >> >>",
    b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /L#61unch /F (cmd.exe) >> >>]",
    b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 612 792] /A << /S /URI /URI (https://t.example) >> >>]",
    b"/Annots [<< /Type /Annot /Subtype /Link /Rect [0 0 9 9] /A << /S /GoToR /F (x.pdf) /D [0 /Fit] >> >>]",
], ids=["escaped-javascript", "escaped-launch", "uri-link", "remote-goto"])
def test_pdf_that_acts_or_reaches_out_is_refused_even_with_escaped_names(page_extra):
    with pytest.raises(PageRejected) as refused:
        clean_upload(handmade_pdf(page_extra=page_extra), 3)
    assert refused.value.status == 422 and "page 3" in refused.value.message


def test_plain_pdf_is_accepted_and_stored_as_a_page_image_without_its_metadata():
    (page,) = clean_upload(handmade_pdf(info=b"/Author (Writer's real name) /Producer (x)"), 1)
    assert page.content_type == "image/jpeg" and page.extension == "jpg"
    assert b"Writer's real name" not in page.data


def test_random_bytes_looking_like_a_dangerous_name_inside_a_stream_are_not_a_danger():
    # Compressed image data is random bytes: "/JS" turns up in it by chance, and is no action.
    (page,) = clean_upload(handmade_pdf().replace(b"(Zdravstvuyte) Tj", b"(a/JS b/AA) Tj"), 1)
    assert page.content_type == "image/jpeg"


def test_formats_are_recognised_by_their_bytes():
    assert sniff(photo_with_gps()) == "jpeg"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "webp"
    assert sniff(b"\x00\x00\x00\x18ftypheic") == "heic"
    assert sniff(b"%PDF-1.7") == "pdf"
    assert sniff(b"hello") is None
