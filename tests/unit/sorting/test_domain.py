"""Sorting's pure rules: who must read a letter, how a redaction applies, what may be bulk-approved."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.sorting.domain import (
    DecisionRefused,
    ModerationPolicy,
    Redaction,
    RedactionRefused,
    agreement,
    approval_outcome,
    approval_step,
    approval_times,
    bulk_refusal,
    clean_reason,
    confirms_exactly,
    decide,
    decision_facts,
    lane_of,
    may_undo,
    printed_fields,
    redacted_values,
    review_reasons,
    screen_printed,
    screening_facts,
    signature_line,
)
from shared.screening import screen

CLEAN = screen("Здравствуйте! Желаю вам здоровья.")
SLOGAN = screen("Слава Украине!")


def test_by_default_a_person_reads_every_letter_even_a_clean_one():
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="detained") == "review"
    assert ModerationPolicy() == ModerationPolicy(auto_approve=False, undo_window_s=600.0,
                                                  second_moderator_for_block=False)


def test_with_automatic_approval_only_a_clean_typed_letter_to_a_detained_or_transferred_prisoner_goes_straight_on():
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="detained", auto_approve=True) == "approve"
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="transferred", auto_approve=True) == "approve"
    assert decide(handwritten=True, screening=CLEAN, auto_approve=True) == "review"
    assert decide(handwritten=False, screening=SLOGAN, auto_approve=True) == "review"
    assert decide(handwritten=False, screening=CLEAN, prisoner_status="released", auto_approve=True) == "review"


def test_every_reason_for_review_is_named():
    reasons = review_reasons(handwritten=True, screening=SLOGAN, prisoner_status="deceased")
    assert reasons == ["findings", "handwritten", "prisoner_deceased"]


def test_a_language_finding_sets_the_language_flag():
    facts = screening_facts(screen("Привіт! Як ти? Ми тебе любимо і чекаємо."))
    assert facts["language_flag"] is True and "language" in facts["categories"] and facts["clean"] is False
    assert screening_facts(CLEAN) == {"categories": [], "language_flag": False, "clean": True, "block": False,
                                      "rules_version": CLEAN.rules_version}
    assert screening_facts(SLOGAN)["block"] is True


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


def test_clean_typed_letters_go_to_the_fast_lane_and_everything_else_to_the_careful_one():
    assert lane_of(review_reasons(handwritten=False, screening=CLEAN, prisoner_status="detained")) == "fast"
    assert lane_of(review_reasons(handwritten=True, screening=CLEAN, prisoner_status="detained")) == "careful"
    assert lane_of(review_reasons(handwritten=False, screening=SLOGAN, prisoner_status="detained")) == "careful"
    assert lane_of(review_reasons(handwritten=False, screening=CLEAN, prisoner_status="released")) == "careful"


def letter(**overrides) -> dict:
    return {"_id": "l_1", "state": "review_needed", "revision": 0, "round": 0, "text": "Здравствуйте!",
            "body": "Здравствуйте!", "writer_first_name": "Оксана", "writer_city": "Полтава",
            "handwritten": False, "prisoner_status": "detained", **overrides}


def test_the_name_and_city_are_screened_with_the_text_and_findings_say_which_field():
    screening = screen_printed(letter(writer_first_name="СлаваУкраине", writer_city="Полтава, +380 67 123 45 67"))
    assert {(f.field, f.category) for f in screening.findings} >= {("writer_first_name", "slogans"),
                                                                   ("writer_city", "personal_data")}
    assert {f.field for f in screening.findings} == {"writer_first_name", "writer_city"}
    phone = next(f for f in screening.findings if f.category == "personal_data")
    assert "Полтава, +380 67 123 45 67"[phone.start:phone.end].startswith("+380")


def test_a_moderators_correction_of_the_name_or_city_is_what_is_printed_and_screened():
    corrected = letter(writer_first_name="СлаваУкраине", printed_writer_first_name=None,
                       writer_city="Полтава, +380671234567", printed_writer_city="Полтава")
    assert printed_fields(corrected) == {"writer_first_name": None, "writer_city": "Полтава"}
    assert screen_printed(corrected).findings == []
    assert signature_line(None, "Полтава") == "Полтава" and signature_line("Оксана", "Полтава") == "Оксана, Полтава"
    assert approval_outcome(corrected) == "redacted" and approval_outcome(letter()) == "approved"


def test_a_field_redaction_clears_or_corrects_the_printed_value_and_a_cleared_one_is_not_printed():
    city = letter(writer_city="Полтава, +380671234567")
    cut = Redaction(field="writer_city", start=7, end=len("Полтава, +380671234567"))
    assert redacted_values(city, cut) == ("Полтава, +380671234567", "Полтава", {"printed_writer_city": "Полтава"})
    assert redacted_values(city, Redaction(field="writer_city", text="  ")) == (
        "Полтава, +380671234567", None, {"printed_writer_city": None})
    with pytest.raises(RedactionRefused):
        Redaction(field="writer_first_name", text="а" * 81).apply("Оксана")


def test_block_findings_are_confirmed_only_by_naming_exactly_those_rules_and_fields():
    screening = screen_printed(letter(text="Слава Украине!", writer_city="+380671234567"))
    exact = {("slogans.glory_to_ukraine", "body"), ("personal_data.phone", "writer_city")}
    assert confirms_exactly(screening, exact)
    assert not confirms_exactly(screening, None)
    assert not confirms_exactly(screening, {("slogans.glory_to_ukraine", "body")})
    assert not confirms_exactly(screening, {*exact, ("slogans.glory_to_ukraine", "writer_first_name")})
    assert confirms_exactly(CLEAN, None) and confirms_exactly(CLEAN, [])
    assert not confirms_exactly(CLEAN, exact), "a confirmation for another version of the letter"


def test_with_the_second_moderator_rule_a_block_letter_needs_two_different_moderators():
    rule = ModerationPolicy(second_moderator_for_block=True)
    assert approval_step(letter(), "anna", block=True, policy=ModerationPolicy()) == "approve"
    assert approval_step(letter(), "anna", block=False, policy=rule) == "approve"
    assert approval_step(letter(), "anna", block=True, policy=rule) == "first_of_two"
    first = letter(first_approved_by="anna", first_approved_revision=0, first_approved_round=0)
    assert approval_step(first, "anna", block=True, policy=rule) == "same_moderator"
    assert approval_step(first, "taras", block=True, policy=rule) == "approve"
    assert approval_step({**first, "revision": 1}, "taras", block=True, policy=rule) == "first_of_two"
    assert approval_step({**first, "round": 1}, "taras", block=True, policy=rule) == "first_of_two"


def test_an_approval_can_be_undone_only_within_its_window():
    now = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)
    times = approval_times(ModerationPolicy(undo_window_s=600), now=now)
    ends = now + timedelta(seconds=600)
    assert times == {"undo_until": ends, "release_at": ends}
    approved = letter(state="approved", **times)
    assert may_undo(approved, ends - timedelta(milliseconds=100)) and not may_undo(approved, ends)
    assert not may_undo(letter(**times), now), "not approved"
    assert not may_undo(letter(state="approved"), now), "approved before approvals had an undo window"
    without_window = approval_times(ModerationPolicy(undo_window_s=0), now=now)
    assert without_window["undo_until"] == now and without_window["release_at"] > now


def test_agreement_counts_screenings_verdict_as_written_against_the_moderators_decision():
    figures = agreement([(True, "rejected"), (True, "redacted"), (False, "approved"), (False, "approved"),
                         (False, "rejected"), (True, "approved")])
    assert (figures.decided, figures.agreed, figures.missed_by_screening, figures.flagged_needlessly) == (6, 4, 1, 1)
    assert figures.share(figures.agreed) == 0.6667 and agreement([]).share(0) == 0.0


def test_only_typed_letters_to_prisoners_who_can_receive_them_are_compared_with_screening():
    assert decision_facts(letter(), CLEAN, "approved") == {
        "decided_flagged": False, "decided_outcome": "approved", "decided_comparable": True}
    assert decision_facts(letter(handwritten=True), CLEAN, "rejected")["decided_comparable"] is False
    assert decision_facts(letter(prisoner_status="released"), SLOGAN, "rejected")["decided_comparable"] is False
    assert decision_facts(letter(), SLOGAN, "redacted")["decided_flagged"] is True


@pytest.mark.parametrize("body", ["Слава Укр\u0061ине!", "Слава Ук\u03c1\u03b1ине!"])
def test_a_slogan_in_look_alike_letters_is_a_finding(body):
    # A Latin "a"; a Greek rho and alpha: the same slogan to the censor's eye.
    assert review_reasons(handwritten=False, screening=screen(body), prisoner_status="detained") == ["findings"]
