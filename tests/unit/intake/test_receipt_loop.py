"""What the receipt tells a writer about a rejection, a correction and a withdrawal: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime

from services.intake.domain import (
    Letter,
    may_withdraw,
    needs_fix,
    version_client_ref,
    withdrawal_state,
    writer_reason,
)

ASKED_AT = datetime(2026, 12, 5, 14, 30, tzinfo=UTC)


def make_letter(**overrides) -> Letter:
    fields = {"id": "l_1", "client_ref": "c", "fingerprint": "f", "prisoner_id": "p_1", "body": "Привет",
              "channel": "web"}
    return Letter(**{**fields, **overrides})


def test_a_preset_reason_is_told_in_the_writers_language_with_the_note():
    letter = make_letter(status="rejected", reason_code="not_in_russian", reason_note="Лише останній абзац.")
    for lang, word in (("uk", "російською"), ("en", "Russian"), ("ru", "на русском")):
        reason = writer_reason(letter, lang)
        assert word in reason.text and reason.note == "Лише останній абзац." and reason.fixable


def test_an_older_rejection_shows_its_free_text_as_the_note_unless_it_carries_personal_data():
    assert writer_reason(make_letter(status="rejected", rejected_reason="Лозунги."), "ru").note == "Лозунги."
    leaky = make_letter(status="rejected", rejected_reason="пишите на a@b.org")
    assert writer_reason(leaky, "ru").note is None and writer_reason(leaky, "ru").code == "other"


def test_a_preset_without_a_note_does_not_repeat_its_label_as_a_note():
    letter = make_letter(status="rejected", reason_code="other", rejected_reason="Other (explain in the note)")
    assert writer_reason(letter, "en").note is None


def test_only_a_rejection_for_a_fixable_reason_can_be_corrected_and_only_once():
    assert needs_fix(make_letter(status="rejected", reason_code="personal_data"))
    assert not needs_fix(make_letter(status="rejected", reason_code="insult_or_threat"))
    assert not needs_fix(make_letter(status="rejected", reason_code="personal_data", next_version="l_2"))
    assert not needs_fix(make_letter(status="review_needed"))
    assert version_client_ref("l_1") == version_client_ref("l_1") != version_client_ref("l_2")


def test_a_withdrawal_is_offered_until_it_is_asked_for_and_then_followed():
    assert may_withdraw(make_letter(status="review_needed"))
    assert not may_withdraw(make_letter(status="ready"))
    asked = make_letter(status="review_needed", withdrawal_requested_at=ASKED_AT)
    assert not may_withdraw(asked) and withdrawal_state(asked) == "requested"
    assert withdrawal_state(make_letter(status="withdrawn", withdrawal_requested_at=ASKED_AT)) == "withdrawn"
    refused = make_letter(status="ready", withdrawal_requested_at=ASKED_AT, withdrawal_refused_reason="already_scanned")
    assert withdrawal_state(refused) == "refused"
