"""The typed letter's scan: A4, Cyrillic and Crimean Tatar letters intact, no contact data."""

from __future__ import annotations

import io
from datetime import UTC, datetime

from pypdf import PdfReader

from services.sorting.domain import decide
from services.sorting.scan import TypedLetter, render_typed_letter
from shared.screening import screen
from tests.support import squash

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


def test_only_a_clean_typed_letter_is_approved_without_a_moderator():
    clean = screen("Здравствуйте! Желаю вам здоровья.")
    assert decide(handwritten=False, screening=clean) == "approve"
    assert decide(handwritten=True, screening=clean) == "review"
    assert decide(handwritten=False, screening=screen("Слава Украине!")) == "review"
