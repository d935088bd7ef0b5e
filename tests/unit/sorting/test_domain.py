"""Sorting's pure rules: who must read a letter, how a redaction applies, what may be bulk-approved."""

from __future__ import annotations

import pytest

from services.sorting.domain import (
    DecisionRefused,
    Redaction,
    RedactionRefused,
    bulk_refusal,
    clean_reason,
    decide,
    review_reasons,
    screening_facts,
)
from shared.screening import screen

CLEAN = screen("Здравствуйте! Желаю вам здоровья.")
SLOGAN = screen("Слава Украине!")


def test_only_a_clean_typed_letter_to_a_detained_or_transferred_prisoner_goes_straight_on():
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="detained") == "approve"
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="transferred") == "approve"
    assert decide(handwritten=True, screening=CLEAN) == "review"
    assert decide(handwritten=False, screening=SLOGAN) == "review"
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="released") == "review"


def test_every_reason_for_review_is_named():
    reasons = review_reasons(handwritten=True, screening=SLOGAN, prisoner_status="deceased")
    assert reasons == ["findings", "handwritten", "prisoner_deceased"]


def test_a_language_finding_sets_the_language_flag():
    facts = screening_facts(screen("Привіт! Як ти? Ми тебе любимо і чекаємо."))
    assert facts["language_flag"] is True and "language" in facts["categories"] and facts["clean"] is False
    assert screening_facts(CLEAN) == {"categories": [], "language_flag": False, "clean": True,
                                      "rules_version": CLEAN.rules_version}


def test_redaction_replaces_exactly_the_passage_counted_in_code_points():
    text = "Привет 🔱 друг! Слава Украине! Обнимаю."
    start = text.index("Слава")
    end = start + len("Слава Украине!")
    assert Redaction(start=start, end=end, replacement="[…]").apply(text) == "Привет 🔱 друг! […] Обнимаю."
    assert Redaction(start=start, end=end).apply(text) == "Привет 🔱 друг!  Обнимаю."


def test_redaction_may_give_the_whole_new_text():
    assert Redaction(text="Обнимаю.").apply("Слава Украине! Обнимаю.") == "Обнимаю."


@pytest.mark.parametrize("redaction", [
    Redaction(start=5, end=5), Redaction(start=3, end=99), Redaction(start=0, end=12), Redaction(text="  "),
    Redaction(),
])
def test_redaction_that_does_not_fit_or_empties_the_letter_is_refused(redaction):
    with pytest.raises(RedactionRefused):
        redaction.apply("Слава героям")


def test_only_typed_letters_in_review_without_findings_may_be_bulk_approved():
    typed = {"state": "review_needed", "page_keys": []}
    assert bulk_refusal(typed, CLEAN) is None
    assert bulk_refusal(typed, SLOGAN) == "has_findings"
    assert bulk_refusal({**typed, "page_keys": ["pages/a.jpg"]}, CLEAN) == "handwritten"
    assert bulk_refusal({**typed, "state": "ready"}, CLEAN) == "not_in_review"
    assert bulk_refusal(None, None) == "unknown"


def test_a_rejection_needs_a_reason_and_keeps_it_short():
    assert clean_reason("  Политика\n в письме ") == "Политика в письме"
    assert len(clean_reason("а" * 2000)) == 500
    with pytest.raises(DecisionRefused):
        clean_reason(" \n ")
