"""The results count letters a volunteer translated, and those waiting for a translator."""

from services.intake.results import domain


def test_translated_letters_and_the_translation_backlog_are_counted():
    figures = domain.moderation_figures({"auto": 3, "translated": 2, "redacted": 1},
                                        {"awaiting_translation": 4, "review_needed": 1}, {})
    assert (figures.translated, figures.awaiting_translation) == (2, 4)
    assert (figures.auto_approved, figures.redacted, figures.awaiting_review) == (3, 1, 1)
