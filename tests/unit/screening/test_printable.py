"""What the scan cannot print is a finding, not a silent blank."""

import pytest

from services.sorting import scan
from shared.screening import screen
from shared.screening.printable import PRINTABLE_CHARACTERS, is_printable


def flagged(text: str) -> list[str]:
    return [text[f.start : f.end] for f in screen(text).findings if f.rule == "unprintable.characters"]


def test_the_scan_cuts_its_font_to_the_characters_screening_knows_it_can_print(monkeypatch):
    cuts = []
    monkeypatch.setattr(scan, "_CUT_FONTS", {})
    monkeypatch.setattr(scan, "_cut_font", lambda path, characters: cuts.append(characters) or path)
    scan.letter_font("font.ttf")
    assert cuts == [PRINTABLE_CHARACTERS]


def test_russian_ukrainian_latin_and_greek_letters_and_usual_signs_are_printable():
    assert all(is_printable(c) for c in "Привіт, Ёж! Ğ ñ ü — «»…№€₴ Σ ↔ ™")


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("Привет! 你好 世界, как ты?", "你好 世界"),
        ("Шалом! שלום", "שלום"),
        ("Обнимаю ★", "★"),
        ("Эскендер, привет! ＳＬＡＶＡ", "ＳＬＡＶＡ"),
        ("Рօссия", "օ"),  # the Armenian o is read as о, and it will be a hole on the scan
        ("Температура −5 градусов", "−"),
    ],
)
def test_characters_the_scan_cannot_print_are_flagged_where_they_stand(text, span):
    assert flagged(text) == [span]


@pytest.mark.parametrize(
    "text",
    [
        "Обнимаю ❤️🌷☀️",
        "Ударе\u0301ние на втором слоге",
        "Сла\u200bва богу, всё хорошо",
        "Привет 👍🏻",
    ],
)
def test_decorative_emoji_invisible_characters_and_stress_marks_are_not_reported(text):
    assert flagged(text) == []


def test_an_emoji_a_symbols_rule_flags_is_also_reported_as_unprintable():
    findings = {(f.rule, f.start, f.end) for f in screen("Держись 💙💛").findings}

    assert ("symbols.ukrainian_symbols", 8, 10) in findings
    assert ("unprintable.characters", 8, 10) in findings
