"""When a letter was written: the client's clock, kept within a plausible window by the server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from services.intake.domain import MAX_WRITTEN_BEFORE_RECEIPT, LetterSubmission, plausible_written_at

pytestmark = pytest.mark.unit

RECEIVED = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)


def test_without_a_claim_a_letter_was_written_when_it_arrived():
    assert plausible_written_at(None, RECEIVED) == RECEIVED


def test_an_offline_kiosks_time_of_writing_is_kept():
    written = RECEIVED - timedelta(days=1, hours=3)
    assert plausible_written_at(written, RECEIVED) == written


def test_a_time_in_the_future_is_clamped_to_receipt():
    assert plausible_written_at(RECEIVED + timedelta(days=400), RECEIVED) == RECEIVED


def test_a_time_long_before_receipt_is_clamped_to_the_window():
    assert plausible_written_at(datetime(1970, 1, 1, tzinfo=UTC), RECEIVED) == RECEIVED - MAX_WRITTEN_BEFORE_RECEIPT
    assert MAX_WRITTEN_BEFORE_RECEIPT == timedelta(days=30)


def test_a_time_with_an_offset_is_the_same_instant_in_utc_and_one_without_is_utc():
    kyiv = timezone(timedelta(hours=2))
    assert plausible_written_at(datetime(2026, 12, 5, 14, 0, tzinfo=kyiv), RECEIVED) == datetime(
        2026, 12, 5, 12, 0, tzinfo=UTC)
    assert plausible_written_at(datetime(2026, 12, 5, 12, 0), RECEIVED) == datetime(2026, 12, 5, 12, 0, tzinfo=UTC)


def test_the_submission_accepts_an_optional_written_at_that_does_not_change_the_letters_identity():
    base = {"prisoner_id": "p_1", "client_ref": "6f1c3c2e-5d0e-4c1b-9d55-1f3f1d2f9a10", "body": "Привет",
            "source": {"channel": "kiosk"}}
    plain = LetterSubmission.model_validate(base)
    dated = LetterSubmission.model_validate({**base, "written_at": "2026-12-05T14:30:00+02:00"})
    assert plain.written_at is None and dated.written_at == datetime(2026, 12, 5, 12, 30, tzinfo=UTC)
    assert plain.fingerprint() == dated.fingerprint()
