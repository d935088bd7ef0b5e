"""The preset rejection reasons (shared/rejection_reasons.yaml) and the screen on a moderator's note."""

from __future__ import annotations

import re

import pytest

from shared.rejection_reasons import (
    LANGS,
    MAX_NOTE_CHARS,
    NoteRefused,
    clean_note,
    load_reasons,
    note_or_none,
    rejection_reasons,
)

HARM = re.compile(r"(?i)harm|danger|шкод|небезпеч|вред|опасн")


def test_every_preset_speaks_to_the_writer_in_ukrainian_english_and_russian():
    reasons = load_reasons()
    assert [r.code for r in reasons.reasons][:2] == ["not_in_russian", "slogan_or_symbol"]
    for reason in reasons.reasons:
        assert all(reason.writer.in_(lang).strip() and reason.label.in_(lang).strip() for lang in LANGS)
        assert reason.writer.uk != reason.writer.ru != reason.writer.en


def test_a_language_problem_is_never_called_harmful_and_can_be_fixed():
    not_russian = rejection_reasons().get("not_in_russian")
    assert not_russian.fixable
    for lang in LANGS:
        assert not HARM.search(not_russian.writer.in_(lang)), lang
    assert "translat" in not_russian.writer.en


def test_an_old_event_without_a_code_counts_as_other():
    assert rejection_reasons().get(None).code == "other"
    assert rejection_reasons().get("no_such_code").code == "other"


def test_a_note_is_plain_text_on_one_line():
    assert clean_note("  Приберіть,\n будь ласка,\u202e гасло.\u200b ") == "Приберіть, будь ласка, гасло."
    assert clean_note("   ") is None and clean_note(None) is None


@pytest.mark.parametrize("note", [
    "Напишіть мені на olena@example.org",
    "див. https://example.org/rules",
    "подробнее на www.example.ru",
    "зателефонуйте +380 67 123 45 67",
    "а" * (MAX_NOTE_CHARS + 1),
])
def test_a_note_with_personal_data_or_too_long_is_refused(note):
    with pytest.raises(NoteRefused):
        clean_note(note)
    assert note_or_none(note) is None


def test_a_short_note_with_a_year_or_a_page_number_passes():
    assert clean_note("Уберите, пожалуйста, вторую фразу на стр. 2 (про 2014 год).")
