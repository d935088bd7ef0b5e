"""Everything the scan prints is screened at intake: the text, the writer's first name, the city."""

from __future__ import annotations

from services.intake.domain import first_name
from services.intake.service import screen_letter

CLEAN = "Здравствуйте! У нас в саду поспели яблоки. Желаю вам здоровья."


def in_fields(result) -> set[tuple[str, str, int, int]]:
    return {(f.field, f.rule, f.start, f.end) for f in result.findings if f.field != "body"}


def test_only_the_first_word_of_the_writers_name_is_printed():
    assert first_name("Оксана Петренко") == "Оксана"
    assert first_name("   ") is None and first_name(None) is None


def test_a_slogan_signed_as_the_city_and_a_flag_in_the_name_are_flagged_in_their_fields():
    result = screen_letter(CLEAN, "🇺🇦Оксана Петренко", "Слава Украине", "en")
    assert result.verdict == "review"
    assert {("writer_first_name", "symbols.flag_emoji", 0, 2),
            ("writer_city", "slogans.glory_to_ukraine", 0, 13)} <= in_fields(result)


def test_what_is_not_printed_is_not_screened():
    assert in_fields(screen_letter(CLEAN, "Оксана 🇺🇦", None, "en")) == set()
