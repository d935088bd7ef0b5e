"""The bundle's PDF and manifest: a cover, the scans in order, and nothing about writers."""

from __future__ import annotations

import hashlib
import io
import json
import re
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from services.delivery.bundle_pdf import (
    ScanFile,
    UnreadableScan,
    assemble,
    manifest,
    page_count,
    render_cover,
)
from tests.support import squash
from tests.unit.delivery.factories import FONT, scan_pdf

pytestmark = pytest.mark.unit

MADE_AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)
EMAIL_OR_PHONE = re.compile(r"[\w.+-]+@[\w-]+\.\w+|\+?\d[\d\s()-]{7,}\d")


def pages_text(pdf: bytes) -> list[str]:
    return [squash(page.extract_text() or "") for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_cover_names_the_prisoner_in_russian_the_number_of_letters_and_the_date():
    cover = render_cover("Ремзи Демо", 3, 4, MADE_AT, "b_0123", FONT)
    (text,) = pages_text(cover)
    assert "Письма для: Ремзи Демо" in text
    assert "Количество писем: 3" in text and "Страниц с письмами: 4" in text and "03.12.2026" in text


def test_the_bundle_is_the_cover_then_every_scan_in_order_and_the_manifest_says_where_each_starts():
    scans = [ScanFile("l_1", scan_pdf("Первое письмо", pages=1)), ScanFile("l_2", scan_pdf("Второе письмо", pages=2)),
             ScanFile("l_3", scan_pdf("Третье письмо", pages=1))]
    cover = render_cover("Ремзи Демо", 3, 4, MADE_AT, "b_0123", FONT)

    bundle = assemble(cover, scans)

    assert bundle.pages == 5 == page_count(bundle.pdf)
    text = pages_text(bundle.pdf)
    assert "Ремзи Демо" in text[0]
    assert "Первое письмо" in text[1] and "Второе письмо" in text[2] and "Третье письмо" in text[4]
    assert [(e.letter_id, e.first_page, e.pages) for e in bundle.entries] == [("l_1", 2, 1), ("l_2", 3, 2), ("l_3", 5, 1)]
    assert bundle.entries[1].sha256 == hashlib.sha256(scans[1].data).hexdigest()
    assert bundle.sha256 == hashlib.sha256(bundle.pdf).hexdigest()


def test_the_manifest_holds_ids_checksums_and_pages_and_no_contact_data():
    scans = [ScanFile("l_1", scan_pdf(signature="Ayşe, Полтава"))]
    bundle = assemble(render_cover("Ремзи Демо", 1, 1, MADE_AT, "b_1", FONT), scans)

    listing = manifest("b_1", "p_1", "i_relative", MADE_AT, bundle)

    assert set(listing) == {"manifest_version", "bundle_id", "prisoner_id", "intermediary_id", "made_at",
                            "pdf_sha256", "pages", "letters"}
    assert listing["letters"] == [
        {"letter_id": "l_1", "sha256": hashlib.sha256(scans[0].data).hexdigest(), "pages": 1, "first_page": 2}]
    serialised = json.dumps(listing, ensure_ascii=False)
    assert "Ayşe" not in serialised and "Полтава" not in serialised
    assert not EMAIL_OR_PHONE.search(serialised.replace(listing["made_at"], ""))


def test_the_bundle_pdf_carries_only_what_the_scans_show_a_first_name_and_a_city():
    scans = [ScanFile("l_1", scan_pdf(signature="Ayşe, Полтава"))]
    bundle = assemble(render_cover("Ремзи Демо", 1, 1, MADE_AT, "b_1", FONT), scans)
    text = " ".join(pages_text(bundle.pdf))
    assert "Ayşe, Полтава" in text
    assert not EMAIL_OR_PHONE.search(text)
    info = PdfReader(io.BytesIO(bundle.pdf)).metadata
    assert info.get("/Author") is None


def test_a_damaged_scan_is_named_when_the_bundle_cannot_be_assembled():
    with pytest.raises(UnreadableScan, match="l_bad"):
        assemble(render_cover("Ремзи Демо", 1, 1, MADE_AT, "b_1", FONT), [ScanFile("l_bad", b"%PDF-1.4 not really")])
    with pytest.raises(UnreadableScan):
        page_count(b"nothing")
