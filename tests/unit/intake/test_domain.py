"""Intake's pure rules: receipts, idempotency fingerprints, statuses, sealed contacts."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.exceptions import InvalidTag
from pydantic import ValidationError

from services.intake.contact import ContactSealer
from services.intake.domain import LetterSubmission, advances, is_written, receipt_matches, receipt_token

KEY = base64.b64encode(b"k" * 32).decode()


def make_submission(**overrides) -> LetterSubmission:
    data = {"prisoner_id": "p_1", "body": "Здравствуйте!", "client_ref": str(uuid.uuid4()), "source": {"channel": "web"}}
    return LetterSubmission.model_validate({**data, **overrides})


def test_receipt_token_opens_only_its_own_letter():
    token = receipt_token(b"secret", "l_1")
    assert receipt_matches(b"secret", "l_1", token)
    assert not receipt_matches(b"secret", "l_2", token)
    assert not receipt_matches(b"other", "l_1", token)


def test_same_letter_has_same_fingerprint_and_a_changed_body_does_not():
    first = make_submission()
    assert first.fingerprint() == make_submission(client_ref=str(first.client_ref)).fingerprint()
    assert first.fingerprint() != make_submission(body="Другое письмо").fingerprint()


def test_status_only_moves_forward():
    assert advances("received", "ready")
    assert advances("ready", "queued")
    assert not advances("queued", "ready")
    assert not advances("ready", "ready")


def test_letter_needs_text_or_pages():
    assert is_written("Привет", 0)
    assert is_written("  ", 2)
    assert not is_written(" \n ", 0)


@pytest.mark.parametrize(
    "overrides",
    [{"body": "я" * 20_001}, {"client_ref": "not-a-uuid"}, {"source": {"channel": "fax"}}, {"unexpected": 1},
     {"author": {"email": "not an email"}}],
)
def test_malformed_submissions_are_refused(overrides):
    with pytest.raises(ValidationError):
        make_submission(**overrides)


def test_contact_is_sealed_and_opens_only_for_its_letter():
    sealer = ContactSealer(KEY)
    sealed = sealer.seal("writer@example.org", "l_1")
    assert "writer@example.org" not in sealed and sealed.startswith("v1:")
    assert sealer.open(sealed, "l_1") == "writer@example.org"
    with pytest.raises(InvalidTag):
        sealer.open(sealed, "l_2")


@pytest.mark.parametrize(
    ("event_type", "body", "status"),
    [
        ("letter.ready", {}, "ready"),
        ("letter.delivery_updated", {"state": "handed_over"}, "handed_over"),
        ("letter.delivery_updated", {"state": "held"}, "held"),
        ("letter.delivery_updated", {"state": "teleported"}, None),
        ("letter.answered", {}, "answered"),
        ("letter.unknown", {}, None),
    ],
)
def test_progress_events_map_to_the_writers_status(event_type, body, status):
    from services.intake.domain import status_of

    assert status_of(event_type, body) == status


def test_a_hand_over_outranks_sending_and_an_answer_outranks_everything():
    assert advances("sent", "handed_over")
    assert advances("handed_over", "answered")
    assert not advances("handed_over", "sent")


def test_a_letter_moves_between_translation_and_review_and_never_back_to_received():
    from services.intake.domain import REVIEW_PHASE, phase_of, status_of

    assert status_of("letter.translation_needed", {}) == "awaiting_translation"
    assert advances("received", "awaiting_translation")
    assert not advances("awaiting_translation", "received")
    # Back and forth within the phase is decided by time, as in delivery's phase.
    assert phase_of("awaiting_translation") == phase_of("review_needed") == REVIEW_PHASE
    assert phase_of("ready") is None


def test_a_writer_may_ask_for_a_translator_and_by_default_does_not():
    letter = {"prisoner_id": "p_1", "body": "Lieber Remzi!", "client_ref": str(uuid.uuid4()),
              "source": {"channel": "web"}}

    assert not LetterSubmission.model_validate(letter).translation_requested
    assert LetterSubmission.model_validate({**letter, "translation_requested": True}).translation_requested
